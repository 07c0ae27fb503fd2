//! The command line against the built binary: options, subcommands, renderers, exit codes
//! and bad input.

// Tests build the machines they judge, with the file calls clippy.toml keeps out of src/.
#![allow(clippy::disallowed_methods)]

mod common;

use common::*;
use tempfile::TempDir;

/// Checks whose result does not depend on this machine's hardware.
const STEADY: &str = "system.os,system.memory,system.disk";

#[test]
fn default_profile_runs_on_this_machine_and_prints_a_report_with_a_summary() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args(["--offline", "--color", "never"]));
    assert!(
        matches!(run.code, 0 | 1),
        "exit {}: {}",
        run.code,
        run.stderr
    );
    assert!(
        run.stdout.contains("profile tf-cert-2023-01"),
        "{}",
        run.stdout
    );
    // Without a UTF-8 locale (the environment here is cleared) the marks are ASCII.
    assert!(
        run.stdout.lines().any(|l| ["[ok]", "[!!]", "[XX]"]
            .iter()
            .any(|m| l.starts_with(&format!("{m} System: ")))),
        "{}",
        run.stdout
    );
    // The summary is the last paragraph (it may wrap at 80 columns).
    let last = run.stdout.trim_end().rsplit("\n\n").next().unwrap();
    assert!(
        last.starts_with("Summary: "),
        "summary must come last: {last}"
    );
}

#[test]
fn json_output_on_this_machine_is_only_json_and_matches_the_schema() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args(["--json", "--offline"]));
    let report = json(&run);
    assert_eq!(report["schema_version"], 2);
    assert_eq!(report["tool"]["name"], "preflight");
    assert_eq!(report["profile"]["name"], "tf-cert-2023-01");
    assert!(report["checks"].as_array().unwrap().len() >= 5);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schema/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match schema: {errors:#?}"
    );
    // The first key of the object is schema_version.
    assert!(
        run.stdout
            .trim_start()
            .starts_with("{\n  \"schema_version\": 2")
    );
}

#[test]
fn format_json_is_the_same_as_the_json_flag() {
    let dir = TempDir::new().unwrap();
    let a = json(&run(
        preflight(dir.path()).args(["--format", "json", "--only", STEADY])
    ));
    let b = json(&run(
        preflight(dir.path()).args(["--json", "--only", STEADY])
    ));
    assert_eq!(statuses(&a), statuses(&b));
}

#[test]
fn json_and_a_different_format_conflict() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args(["--json", "--format", "human"]));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
}

#[test]
fn junit_has_one_testcase_per_finding_and_marks_skips() {
    let dir = TempDir::new().unwrap();
    let profile = profile_file(dir.path(), "p.toml", &system_only_profile(1_000_000));
    let run = run(preflight(dir.path())
        .args(["--format", "junit", "--profile"])
        .arg(&profile)
        .args(["--only", STEADY]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    );
    assert_eq!(
        run.stdout.matches("<testcase ").count(),
        3,
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("name=\"system.memory\""));
    assert!(
        run.stdout.contains("<system-out>warning: "),
        "memory warns: {}",
        run.stdout
    );
    // --strict turns the warning into a JUnit failure and exit 1.
    let strict = common::run(
        preflight(dir.path())
            .args(["--format", "junit", "--strict", "--profile"])
            .arg(&profile)
            .args(["--only", STEADY]),
    );
    assert_eq!(strict.code, 1);
    assert!(
        strict.stdout.contains("<failure message="),
        "{}",
        strict.stdout
    );
    assert!(strict.stdout.contains("failures=\"1\""));
}

#[test]
fn warnings_exit_zero_unless_strict() {
    let dir = TempDir::new().unwrap();
    let profile = profile_file(dir.path(), "p.toml", &system_only_profile(1_000_000));
    let relaxed = run(preflight(dir.path())
        .arg("--profile")
        .arg(&profile)
        .args(["--only", STEADY, "--json"]));
    assert_eq!(relaxed.code, 0);
    let report = json(&relaxed);
    assert_eq!(report["summary"]["warn"], 1);
    assert_eq!(report["summary"]["ready"], true);
    let strict = run(preflight(dir.path())
        .arg("--profile")
        .arg(&profile)
        .args(["--only", STEADY, "--strict"]));
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert!(
        strict.stdout.contains("not ready: 1 problem"),
        "{}",
        strict.stdout
    );
}

#[test]
fn severity_warn_turns_a_failure_into_a_warning() {
    let dir = TempDir::new().unwrap();
    // min_disk_gb beyond any disk: the disk check warns by itself; severity keeps it a warning.
    let text = format!(
        "{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\nseverity = \"warn\"\nmin_disk_gb = 100000000\n"
    );
    let profile = profile_file(dir.path(), "p.toml", &text);
    let run = run(preflight(dir.path()).arg("--profile").arg(&profile).args([
        "--only",
        "system.disk",
        "--json",
    ]));
    assert_eq!(run.code, 0);
    assert_eq!(
        statuses(&json(&run)),
        vec![("system.disk".into(), "warn".into())]
    );
}

#[test]
fn only_and_skip_take_ids_and_categories() {
    let dir = TempDir::new().unwrap();
    let only = json(&run(preflight(dir.path()).args([
        "--json",
        "--only",
        "system.os,system.memory",
    ])));
    let ids: Vec<String> = statuses(&only).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["system.os", "system.memory"]);
    let skip = json(&run(preflight(dir.path()).args([
        "--json",
        "--only",
        "system",
        "--skip",
        "system.cpu,system.power",
    ])));
    let ids: Vec<String> = statuses(&skip).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["system.os", "system.memory", "system.disk"]);
}

#[test]
fn unknown_only_or_skip_names_exit_2_and_list_the_valid_ones() {
    let dir = TempDir::new().unwrap();
    for flag in ["--only", "--skip"] {
        let run = run(preflight(dir.path()).args([flag, "system.nope"]));
        assert_eq!(run.code, 2);
        assert!(
            run.stderr
                .contains("unknown check or category: system.nope"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("system.cpu"),
            "lists valid ids: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn colour_follows_the_flag_the_terminal_and_no_color() {
    let dir = TempDir::new().unwrap();
    let esc = '\u{1b}';
    let always = run(preflight(dir.path()).args(["--color", "always", "--only", STEADY]));
    assert!(always.stdout.contains(esc), "always colours");
    let never = run(preflight(dir.path()).args(["--color", "never", "--only", STEADY]));
    assert!(!never.stdout.contains(esc));
    // auto: stdout here is a pipe, not a terminal.
    let auto = run(preflight(dir.path()).args(["--only", STEADY]));
    assert!(!auto.stdout.contains(esc));
    let no_color = run(preflight(dir.path())
        .env("NO_COLOR", "1")
        .args(["--only", STEADY]));
    assert!(!no_color.stdout.contains(esc));
}

#[test]
fn verbose_shows_every_finding_with_ids_timings_and_observed_facts() {
    let dir = TempDir::new().unwrap();
    let quiet = run(preflight(dir.path())
        .env("LANG", "C.UTF-8")
        .args(["--only", "system.os"]));
    assert!(!quiet.stdout.contains("[system.os ·"));
    assert!(
        quiet.stdout.contains("[✓] System: 1 passed\n"),
        "a passing category is one line: {}",
        quiet.stdout
    );
    assert!(!quiet.stdout.contains("Operating system"));
    let verbose =
        run(preflight(dir.path())
            .env("LANG", "C.UTF-8")
            .args(["-v", "--only", "system.os"]));
    assert!(
        verbose.stdout.contains("[system.os · "),
        "{}",
        verbose.stdout
    );
    assert!(
        verbose.stdout.contains("  [✓] Operating system: "),
        "{}",
        verbose.stdout
    );
    assert!(
        verbose.stdout.contains("• family: "),
        "observed facts are bullets: {}",
        verbose.stdout
    );
}

#[test]
fn marks_are_ascii_without_a_utf8_locale_or_on_a_dumb_terminal() {
    let dir = TempDir::new().unwrap();
    let with = |env: &[(&str, &str)]| {
        let mut command = preflight(dir.path());
        command.args(["--only", "system.os", "--color", "auto"]);
        for (key, value) in env {
            command.env(key, value);
        }
        run(&mut command).stdout
    };
    assert!(with(&[("LANG", "en_US.UTF-8")]).contains("[✓] System"));
    assert!(with(&[("LC_ALL", "C"), ("LANG", "en_US.UTF-8")]).contains("[ok] System"));
    assert!(with(&[]).contains("[ok] System"));
    let dumb = with(&[("LANG", "en_US.UTF-8"), ("TERM", "dumb")]);
    assert!(dumb.contains("[ok] System"), "{dumb}");
    assert!(dumb.is_ascii(), "{dumb}");
}

#[test]
fn columns_sets_the_wrap_width() {
    let dir = TempDir::new().unwrap();
    for columns in [50usize, 100] {
        let out = run(preflight(dir.path())
            .env("COLUMNS", columns.to_string())
            .args([
                "-v",
                "--only",
                "system.os,system.memory",
                "--color",
                "never",
            ]))
        .stdout;
        for line in out.lines() {
            assert!(
                line.chars().count() <= columns,
                "over {columns}: {line}\n{out}"
            );
        }
        assert!(out.lines().count() > 3, "{out}");
    }
}

#[test]
fn json_names_the_host_the_time_and_the_duration() {
    let dir = TempDir::new().unwrap();
    let report = json(&run(
        preflight(dir.path()).args(["--json", "--only", STEADY])
    ));
    let generated_at = report["generated_at"].as_str().expect("generated_at");
    assert!(
        humantime::parse_rfc3339(generated_at).is_ok(),
        "RFC 3339: {generated_at}"
    );
    assert!(report["duration_ms"].is_u64());
    assert!(report["host"]["name"].is_string() || report["host"]["name"].is_null());
    assert!(report["checks"][0]["caused_by"].is_null());
}

#[test]
fn markdown_is_a_report_for_a_ticket() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args(["--format", "markdown", "--only", STEADY]));
    assert!(
        run.stdout.starts_with("## preflight report: "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n### Findings\n"), "{}", run.stdout);
    assert!(run.stdout.contains("(`system.os`)"), "{}", run.stdout);
}

#[test]
fn timeout_must_be_a_positive_number() {
    let dir = TempDir::new().unwrap();
    for bad in ["0", "-1", "soon", "NaN"] {
        let run = run(preflight(dir.path()).arg(format!("--timeout={bad}")));
        assert_eq!(run.code, 2, "--timeout {bad}");
        assert!(run.stderr.contains("--timeout"), "{}", run.stderr);
    }
    let ok = run(preflight(dir.path()).args(["--timeout", "2.5", "--only", STEADY]));
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

#[test]
fn profiles_lists_every_built_in_and_marks_the_default() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).arg("profiles"));
    assert_eq!(run.code, 0);
    for name in [
        "tf-cert-2020-07",
        "tf-cert-2020-12",
        "tf-cert-2021-01",
        "tf-cert-2021-06",
        "tf-cert-2021-12",
        "tf-cert-2022-07",
        "tf-cert-2023-01",
        "tf-cert-2.13",
    ] {
        assert!(
            run.stdout.lines().any(|l| l.starts_with(name)),
            "{name} missing:\n{}",
            run.stdout
        );
    }
    assert!(
        run.stdout
            .contains("tf-cert          = tf-cert-2023-01 (default)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .lines()
            .any(|l| l.starts_with("tf-cert-2.13") && l.contains("(unverified)"))
    );
}

#[test]
fn every_built_in_profile_loads_and_lists_its_checks() {
    let dir = TempDir::new().unwrap();
    let names = run(preflight(dir.path()).arg("profiles"));
    for line in names.stdout.lines() {
        let name = line.split_whitespace().next().unwrap();
        let run = run(preflight(dir.path()).args(["list", "--profile", name]));
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert!(run.stdout.starts_with("ID "), "{name}: {}", run.stdout);
        assert!(
            run.stdout.contains("system.cpu  "),
            "{name}: {}",
            run.stdout
        );
    }
}

#[test]
fn list_shows_id_kind_and_severity_and_follows_only() {
    let dir = TempDir::new().unwrap();
    let text = format!("{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\nseverity = \"warn\"\n");
    let profile = profile_file(dir.path(), "p.toml", &text);
    let run = run(preflight(dir.path())
        .arg("list")
        .arg("--profile")
        .arg(&profile)
        .args(["--only", "system.cpu,system.memory"]));
    assert_eq!(run.code, 0);
    let rows: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(rows.len(), 3, "{}", run.stdout);
    // The effective severity: a CPU without AVX is a fact no profile softens; memory is
    // advice that only ever warns.
    let cells: Vec<&str> = rows[1].split_whitespace().collect();
    assert_eq!(&cells[..3], ["system.cpu", "system", "fail"]);
    let cells: Vec<&str> = rows[2].split_whitespace().collect();
    assert_eq!(&cells[..3], ["system.memory", "system", "warn"]);
}

#[test]
fn explain_tells_what_why_and_how_to_fix() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args(["explain", "system.cpu"]));
    assert_eq!(run.code, 0);
    for part in ["What it checks:", "Why it matters:", "How to fix:", "AVX"] {
        assert!(run.stdout.contains(part), "{part}: {}", run.stdout);
    }
    let unknown = common::run(preflight(dir.path()).args(["explain", "system.gpu"]));
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("has no check `system.gpu`"),
        "{}",
        unknown.stderr
    );
    assert!(unknown.stderr.contains("system.cpu"));
}

#[test]
fn completions_are_printed_for_each_shell() {
    let dir = TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = run(preflight(dir.path()).args(["completions", shell]));
        assert_eq!(run.code, 0, "{shell}");
        assert!(run.stdout.contains("preflight"), "{shell}");
        // Completions know the built-in profiles, the check ids and the categories, where
        // the shell's static script offers values at all (PowerShell's and Elvish's do not).
        if ["bash", "zsh", "fish"].contains(&shell) {
            for known in [
                "tf-cert-2023-01",
                "python.version",
                "packages.numpy",
                "webcam",
            ] {
                assert!(run.stdout.contains(known), "{shell} lacks {known}");
            }
        }
    }
    assert_eq!(
        run(preflight(dir.path()).args(["completions", "tcsh"])).code,
        2
    );
}

#[test]
fn usage_errors_exit_2_and_help_and_version_exit_0() {
    let dir = TempDir::new().unwrap();
    assert_eq!(run(preflight(dir.path()).arg("--no-such-flag")).code, 2);
    assert_eq!(
        run(preflight(dir.path()).args(["--format", "yaml"])).code,
        2
    );
    assert_eq!(
        run(preflight(dir.path()).args(["--color", "sometimes"])).code,
        2
    );
    let help = run(preflight(dir.path()).arg("--help"));
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Exit codes:"));
    let version = run(preflight(dir.path()).arg("--version"));
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("preflight "));
}

#[test]
fn unknown_profile_name_exits_2_and_lists_the_built_ins() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args(["--profile", "tf-cert-1999"]));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("no built-in profile is called `tf-cert-1999`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("tf-cert-2022-07"));
}

#[test]
fn a_profile_given_by_path_works_like_a_built_in() {
    let dir = TempDir::new().unwrap();
    let built_in = include_str!("../checks/tf-cert-2023-01.toml");
    let copy = profile_file(dir.path(), "copy.toml", built_in);
    let a = json(&run(
        preflight(dir.path()).args(["--json", "--only", STEADY])
    ));
    let b = json(&run(preflight(dir.path())
        .arg("--json")
        .arg("--profile")
        .arg(&copy)
        .args(["--only", STEADY])));
    assert_eq!(a["profile"], b["profile"]);
    assert_eq!(statuses(&a), statuses(&b));
    // A relative path is taken from the working directory.
    let relative =
        run(preflight(dir.path()).args(["--json", "--profile", "./copy.toml", "--only", STEADY]));
    assert_eq!(relative.code, 0, "{}", relative.stderr);
}

fn profile_error(text: &str) -> String {
    let dir = TempDir::new().unwrap();
    let profile = profile_file(dir.path(), "bad.toml", text);
    let run = run(preflight(dir.path()).arg("--profile").arg(&profile));
    assert_eq!(
        run.code, 2,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    assert!(run.stdout.is_empty());
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    assert!(
        run.stderr.contains("bad.toml"),
        "names the file: {}",
        run.stderr
    );
    run.stderr
}

#[test]
fn malformed_toml_names_the_line() {
    let err = profile_error(&format!("{PROFILE_HEADER}\n[[check]\nkind = \"system\"\n"));
    assert!(err.contains("bad.toml:7:"), "{err}");
}

#[test]
fn unknown_key_in_a_check_names_line_and_key() {
    let err = profile_error(&format!(
        "{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\nmin_memroy_gb = 8\n"
    ));
    assert!(err.contains("bad.toml:9: key `min_memroy_gb`"), "{err}");
    assert!(err.contains("unknown field"), "{err}");
}

#[test]
fn unknown_kind_lists_the_known_kinds() {
    let err = profile_error(&format!("{PROFILE_HEADER}\n[[check]]\nkind = \"gpu\"\n"));
    assert!(
        err.contains("bad.toml:8: key `kind`: unknown kind `gpu`; known kinds: system"),
        "{err}"
    );
}

#[test]
fn wrong_type_names_line_and_key() {
    let err = profile_error(&format!(
        "{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\n\nmin_disk_gb = \"lots\"\n"
    ));
    assert!(err.contains("bad.toml:10: key `min_disk_gb`"), "{err}");
    assert!(err.contains("invalid type"), "{err}");
}

#[test]
fn other_profile_mistakes_are_errors_not_panics() {
    let cases = [
        ("", "no [[check]] tables"),
        ("[profile]\nname = \"x\"\n", "no [[check]] tables"),
        (
            "[profile]\nnom = \"x\"\n[[check]]\nkind = \"system\"\n",
            "unknown field",
        ),
        (
            &format!("{PROFILE_HEADER}colour = \"red\"\n"),
            "unknown field",
        ),
        (
            &format!("{PROFILE_HEADER}tensorflow = \"two\"\n"),
            "key `tensorflow`",
        ),
        (
            &format!("{PROFILE_HEADER}\n[[check]]\nseverity = \"warn\"\n"),
            "needs a kind",
        ),
        (
            &format!("{PROFILE_HEADER}\n[[check]]\nkind = 3\n"),
            "must be a string",
        ),
        (
            &format!("{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\nseverity = \"fatal\"\n"),
            "\"fail\" or \"warn\"",
        ),
        (
            &format!("{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\nmin_disk_gb = -1\n"),
            "zero or more",
        ),
        (
            &format!("check = 5\n{PROFILE_HEADER}"),
            "array of [[check]]",
        ),
        (&format!("{PROFILE_HEADER}\n[extras]\n"), "unknown key"),
        ("\u{0}\u{1}garbage = = =", ":1:"),
    ];
    for (text, expected) in cases {
        let err = profile_error(text);
        assert!(err.contains(expected), "{text:?} -> {err}");
    }
}

#[test]
fn an_unreadable_or_huge_profile_file_is_an_error() {
    let dir = TempDir::new().unwrap();
    let missing = run(preflight(dir.path()).args(["--profile", "./missing.toml"]));
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("cannot read profile"),
        "{}",
        missing.stderr
    );
    let huge = profile_file(dir.path(), "huge.toml", &"# padding\n".repeat(300_000));
    let run = run(preflight(dir.path()).arg("--profile").arg(&huge));
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("larger than"), "{}", run.stderr);
    let as_dir = common::run(preflight(dir.path()).args(["--profile", "./"]));
    assert_eq!(as_dir.code, 2);
}

#[test]
fn strict_json_exit_code_and_last_line_agree_on_one_verdict() {
    let dir = TempDir::new().unwrap();
    let profile = profile_file(dir.path(), "p.toml", &system_only_profile(1_000_000));
    for strict in [false, true] {
        let mut args = vec!["--only", STEADY];
        if strict {
            args.push("--strict");
        }
        let json_run = run(preflight(dir.path())
            .arg("--profile")
            .arg(&profile)
            .args(&args)
            .arg("--json"));
        let human = run(preflight(dir.path())
            .arg("--profile")
            .arg(&profile)
            .args(&args));
        let report = json(&json_run);
        let summary = &report["summary"];
        assert_eq!(summary["strict"], strict);
        assert_eq!(summary["ready"], !strict, "{summary:#}");
        assert_eq!(
            summary["verdict"],
            if strict {
                "not_ready"
            } else {
                "ready_with_warnings"
            }
        );
        assert_eq!(json_run.code, if strict { 1 } else { 0 });
        assert_eq!(human.code, json_run.code);
        let last = human.stdout.trim_end().lines().last().unwrap().to_string();
        assert_eq!(last.contains("not ready"), strict, "{last}");
    }
}

#[test]
fn duplicate_and_malformed_ids_are_profile_errors_at_their_line() {
    let network = |id: &str| {
        format!(
            "\n[[check]]\nkind = \"network\"\nid = \"{id}\"\ntitle = \"t\"\nurl = \"https://127.0.0.1/\"\nwhy = \"w\"\n"
        )
    };
    // Two system tables report the same ids.
    let err = profile_error(&format!(
        "{PROFILE_HEADER}\n[[check]]\nkind = \"system\"\n\n[[check]]\nkind = \"system\"\n"
    ));
    assert!(err.contains("bad.toml:10:"), "{err}");
    assert!(err.contains("`system.os` is already reported"), "{err}");
    // Two endpoints with one id: the second `id` line is named.
    let err = profile_error(&format!(
        "{PROFILE_HEADER}{}{}",
        network("network.a"),
        network("network.a")
    ));
    assert!(err.contains("bad.toml:16:"), "{err}");
    assert!(err.contains("`network.a`"), "{err}");
    // A pin called `compat` collides with the breakage finding.
    let err = profile_error(&format!(
        "{PROFILE_HEADER}\n[[check]]\nkind = \"packages\"\npins = [\"compat==1.0\"]\n"
    ));
    assert!(err.contains("bad.toml:9:"), "{err}");
    assert!(err.contains("`packages.compat`"), "{err}");
    // Ids the report's schema would not accept.
    for bad in [
        "network.with space",
        "network.quote\\\"d",
        "network.caf\u{e9}",
    ] {
        let err = profile_error(&format!("{PROFILE_HEADER}{}", network(bad)));
        assert!(err.contains("not a valid check id"), "{bad}: {err}");
        assert!(err.contains("bad.toml:9:"), "{bad}: {err}");
    }
}

#[test]
fn a_custom_profile_needs_only_its_checks() {
    let dir = TempDir::new().unwrap();
    let profile = profile_file(
        dir.path(),
        "week1.toml",
        "[[check]]\nkind = \"system\"\nmin_memory_gb = 0\nmin_disk_gb = 0\n",
    );
    let run = run(preflight(dir.path())
        .arg("--profile")
        .arg(&profile)
        .args(["--only", STEADY, "--json"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = json(&run);
    assert_eq!(report["profile"]["name"], "week1");
    assert_eq!(report["profile"]["title"], "week1");
    assert_eq!(report["profile"]["verified"], true);
}

#[test]
fn the_unverified_profile_says_why_its_pins_only_warn() {
    let dir = TempDir::new().unwrap();
    let run = run(preflight(dir.path()).args([
        "--profile",
        "tf-cert-2.13",
        "--only",
        STEADY,
        "--offline",
    ]));
    // The header is wrapped to the width: its first paragraph, read as one text.
    let header = run.stdout.split("\n\n").next().unwrap();
    assert!(
        header.lines().next().unwrap().contains("(unverified)"),
        "{}",
        run.stdout
    );
    let header = header.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(header.contains("only warn"), "{}", run.stdout);
    // `list` shows what can soften: the pins warn, the breakage check still fails.
    let list = common::run(preflight(dir.path()).args(["list", "--profile", "tf-cert-2.13"]));
    let severity_of = |id: &str| {
        list.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .and_then(|l| l.split_whitespace().nth(2))
            .unwrap_or_else(|| panic!("{id}: {}", list.stdout))
            .to_string()
    };
    assert_eq!(severity_of("packages.tensorflow"), "warn");
    assert_eq!(severity_of("packages.compat"), "fail");
    assert_eq!(severity_of("python.deep"), "fail");
}

/// The report's ids are exactly the ids `list` plans, for every built-in profile, and each
/// matches the schema: renderers, `--only` and dashboards can rely on them.
#[test]
fn every_built_in_profile_reports_exactly_its_planned_ids_on_this_machine() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schema/report.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    for name in [
        "tf-cert-2020-07",
        "tf-cert-2020-12",
        "tf-cert-2021-01",
        "tf-cert-2021-06",
        "tf-cert-2021-12",
        "tf-cert-2022-07",
        "tf-cert-2023-01",
        "tf-cert-2.13",
    ] {
        let dir = TempDir::new().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let list = run(preflight(dir.path()).args(["list", "--profile", name]));
        assert_eq!(list.code, 0, "{name}: {}", list.stderr);
        let planned: Vec<&str> = list
            .stdout
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let report_run =
            run(preflight(dir.path()).args(["--json", "--offline", "--profile", name]));
        assert!(
            report_run.code == 0 || report_run.code == 1,
            "{name}: {}",
            report_run.stderr
        );
        let report = json(&report_run);
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
        let reported: Vec<String> = statuses(&report).into_iter().map(|(id, _)| id).collect();
        assert_eq!(reported, planned, "{name}");
    }
}

/// `fix` prints a plan, not a report: a report format is refused (exit 2) before anything is
/// looked at; `explain` speaks text and JSON, and refuses the report-only formats.
#[test]
fn fix_refuses_report_formats_and_explain_speaks_json() {
    let dir = TempDir::new().unwrap();
    // No pins, and a Python no machine has: were the format ever ignored, `fix --yes` would
    // stop at "no Python" rather than build anything.
    let profile = profile_file(
        dir.path(),
        "p.toml",
        &format!("{PROFILE_HEADER}\n[[check]]\nkind = \"python\"\nversion = \"==3.99.*\"\n"),
    );
    for format in [
        &["--json"][..],
        &["--format", "junit"],
        &["--format", "markdown"],
    ] {
        let run = run(preflight(dir.path())
            .args(format)
            .args(["fix", "--yes", "--venv", "exam-venv", "--profile"])
            .arg(&profile));
        assert_eq!(run.code, 2, "{format:?}: {}{}", run.stdout, run.stderr);
        assert!(run.stdout.is_empty(), "{format:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("preflight fix prints a plan"),
            "{format:?}: {}",
            run.stderr
        );
        assert!(!dir.path().join("exam-venv").exists());
    }
    let explained = json(&run(preflight(dir.path()).args([
        "--json",
        "explain",
        "system.cpu",
    ])));
    assert_eq!(explained["id"], "system.cpu");
    assert!(explained["what"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(explained["fix"].as_str().is_some_and(|t| !t.is_empty()));
    let junit = run(preflight(dir.path()).args(["--format", "junit", "explain", "system.cpu"]));
    assert_eq!(junit.code, 2, "{}{}", junit.stdout, junit.stderr);
    assert!(junit.stdout.is_empty(), "{}", junit.stdout);
}
