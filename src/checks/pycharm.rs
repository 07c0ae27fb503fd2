//! `pycharm`: the PyCharm installs on the machine, the chosen one's version, the exam
//! plugin in that install's plugin directory, whether that install knows the exam
//! environment as an interpreter, and which interpreter the exam project runs on. Every path
//! comes from the Host.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::thread::JoinHandle;

use pep440_rs::{Version, VersionSpecifiers};
use serde::Deserialize;

use crate::check::{Check, ConfigError, Context, Deadline, FindingSpec, Kind, KindConfig, Stakes};
use crate::host::{
    Host, OsFamily, SMALL_FILE_LIMIT, canonicalize, is_dir, is_file, read_bounded, read_dir,
    read_small,
};
use crate::pycharm_interpreters::{self, Environment, Known, SdkState, Table};
use crate::pycharm_places::{self, Descriptor, descriptor};
use crate::python::PythonEnv;
use crate::report::{Category, Finding, Status};
use serde_json::Value;

pub const KIND: Kind = Kind {
    name: "pycharm",
    build,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// PEP 440 specifier over IDE versions (`>=2020.2,<2020.3`); absent: any version.
    #[serde(default)]
    version: Option<String>,
    /// `<name>` values in plugin.xml that identify the exam plugin.
    #[serde(default = "default_plugin_names")]
    plugin_names: Vec<String>,
    /// `<id>` values in plugin.xml that identify the exam plugin.
    #[serde(default)]
    plugin_ids: Vec<String>,
}

fn default_plugin_names() -> Vec<String> {
    vec!["Google Developers Certification".into()]
}

fn build(config: KindConfig<'_>) -> Result<Box<dyn Check>, ConfigError> {
    let parsed: Config = config.parse()?;
    let version = match &parsed.version {
        None => None,
        Some(text) => Some(VersionSpecifiers::from_str(text).map_err(|e| {
            config.error(
                "version",
                format!("not a version specifier (like \">=2021.3\"): {e}"),
            )
        })?),
    };
    if parsed.plugin_names.is_empty() && parsed.plugin_ids.is_empty() {
        return Err(config.error(
            "plugin_names",
            "name the exam plugin by plugin_names or plugin_ids",
        ));
    }
    let wanted = wanted(version.as_ref());
    Ok(Box::new(PyCharm {
        version,
        plugin_names: parsed.plugin_names,
        plugin_ids: parsed.plugin_ids,
        specs: specs(&wanted),
    }))
}

struct PyCharm {
    version: Option<VersionSpecifiers>,
    plugin_names: Vec<String>,
    plugin_ids: Vec<String>,
    specs: Specs,
}

/// The findings, whose texts name the profile's PyCharm versions.
struct Specs {
    install: FindingSpec,
    version: FindingSpec,
    plugin: FindingSpec,
    interpreter: FindingSpec,
    project: FindingSpec,
}

/// The versions the profile accepts, in words.
fn wanted(version: Option<&VersionSpecifiers>) -> String {
    version
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "(any version)".into())
}

fn specs(wanted: &str) -> Specs {
    Specs {
        install: FindingSpec::configured(
            "pycharm.install".into(),
            Category::Pycharm,
            "PyCharm install".into(),
            Stakes::Fact,
            [
                "Finds every PyCharm install (standalone, snap, Flatpak, /usr/share packages, tarballs named by .desktop entries, JetBrains Toolbox including its recorded custom locations, launchers on PATH, /Applications, Program Files) and reads its product-info.json or build.txt.".into(),
                "The exam runs inside PyCharm, through the exam plugin.".into(),
                format!("Install PyCharm {wanted} from JetBrains' download page (older releases are under \"Other versions\")."),
            ],
        ),
        version: FindingSpec::configured(
            "pycharm.version".into(),
            Category::Pycharm,
            "PyCharm version".into(),
            Stakes::Policy,
            [
                format!("The chosen install's version against the profile ({wanted})."),
                "Each handbook names the PyCharm versions the exam plugin worked with; e.g. the Dec 2020 plugin did not work on 2020.3.".into(),
                format!("Install PyCharm {wanted}; several versions can live side by side."),
            ],
        )
        .caused_by(&["pycharm.install"]),
        plugin: FindingSpec::configured(
            "pycharm.plugin".into(),
            Category::Pycharm,
            "Exam plugin".into(),
            Stakes::Fact,
            [
                "The exam plugin is installed for the chosen PyCharm: its META-INF/plugin.xml (read as XML) is found in the plugin directory the IDE computes (idea.plugins.path or idea.config.path from PYCHARM_PROPERTIES, the config directory's idea.properties, ~/idea.properties, then the install's bin/idea.properties; else the OS default, inside the sandbox for Flatpak).".into(),
                "The exam starts, fetches its project and submits answers only through the plugin.".into(),
                "In PyCharm: Settings (Preferences on macOS) > Plugins > Marketplace, search \"Google Developers Certification\", Install, restart PyCharm.".into(),
            ],
        )
        .caused_by(&["pycharm.install"]),
        interpreter: FindingSpec::configured(
            "pycharm.interpreter".into(),
            Category::Pycharm,
            "PyCharm knows the exam interpreter".into(),
            Stakes::Advice,
            [
                "One of the interpreters the chosen PyCharm knows is the exam environment's: its SDK table (options/jdk.table.xml in the config directory the IDE computes: idea.config.path from idea.properties, else the OS default, inside the sandbox for Flatpak, ~/.<selector>/config before 2020.1) is read as XML, and each Python SDK's path ($USER_HOME$ and $APPLICATION_HOME_DIR$ expanded) is compared with the environment's as the same venv or file, however spelled (links, bin/python or bin/python3, Scripts\\python.exe; case-insensitive on Windows and macOS).".into(),
                "The exam plugin opens its project in PyCharm, and the code runs on the interpreter PyCharm is set to. With a perfect venv that PyCharm does not know, the exam code runs on another Python, without the pinned TensorFlow, or the first exam minutes go to adding the interpreter.".into(),
                "In PyCharm: Settings > Project > Python Interpreter > Add Interpreter > Add Local Interpreter > Virtualenv Environment > Existing, and paste the venv's interpreter (venv/bin/python, or venv\\Scripts\\python.exe on Windows); before 2023.2: the gear icon > Add... > Virtualenv Environment > Existing environment.".into(),
            ],
        )
        .caused_by(&["python.interpreter", "pycharm.install"]),
        project: FindingSpec::configured(
            "pycharm.project".into(),
            Category::Pycharm,
            "Project interpreter".into(),
            Stakes::Policy,
            [
                "The exam project (--project DIR, else the working directory when it holds .idea/) runs on the exam environment: its module's .iml jdkName (or, for inheritedJdk, .idea/misc.xml's project-jdk-name) is looked up by name in PyCharm's SDK table and compared with the environment.".into(),
                "A project set to another interpreter runs the exam code without the exam's pins, whatever the venv holds.".into(),
                "Open the project in PyCharm, then Settings > Project > Python Interpreter and pick the exam venv's interpreter (add it first if it is not listed).".into(),
            ],
        )
        .caused_by(&["python.interpreter", "pycharm.install"]),
    }
}

/// One install, as its own files describe it.
#[derive(Debug, Clone)]
pub struct Install {
    pub root: PathBuf,
    pub name: String,
    pub version: Option<Version>,
    pub build: Option<String>,
    pub data_directory: Option<String>,
    pub community: bool,
    /// Why the install's description could not be read, when it could not.
    pub problem: Option<String>,
}

impl Install {
    fn describe(&self) -> String {
        let version = self
            .version
            .as_ref()
            .map_or("(unknown version)".into(), |v| v.to_string());
        let build = self
            .build
            .as_ref()
            .map(|b| format!(", build {b}"))
            .unwrap_or_default();
        format!("{} {version}{build} at {}", self.name, self.root.display())
    }
}

impl Check for PyCharm {
    fn specs(&self) -> Vec<&FindingSpec> {
        vec![
            &self.specs.install,
            &self.specs.version,
            &self.specs.plugin,
            &self.specs.interpreter,
            &self.specs.project,
        ]
    }

    fn start_early(&self, ctx: &Arc<Context>) -> Option<JoinHandle<()>> {
        ctx.start_shared::<PythonEnv>()
    }

    /// Whether the chosen PyCharm knows the venv `preflight fix` built, judged as
    /// `pycharm.interpreter` judges it, and if not the steps, with the path.
    fn after_fix(&self, host: &Host, interpreter: &Path) -> Option<String> {
        let installs = find_installs(host);
        let link = Link::new(host, self.choose(&installs), Link::environment(interpreter));
        let finding = link.interpreter(&self.specs.interpreter);
        let steps = || pycharm_interpreters::add_steps("PyCharm", None, host.os, interpreter);
        Some(match (finding.status, finding.fix) {
            (Status::Pass, _) => format!(
                "PyCharm: {}; pick it as the exam project's interpreter.",
                finding.summary
            ),
            (_, Some(fix)) => format!(
                "PyCharm: {}.
{fix}",
                finding.summary
            ),
            (_, None) if link.install.is_none() => {
                format!(
                    "PyCharm: no PyCharm install was found; once one is: {}",
                    steps()
                )
            }
            (_, None) => format!(
                "PyCharm: {}.
{}",
                finding.summary,
                steps()
            ),
        })
    }

    fn run(&self, ctx: &Context, _deadline: Deadline) -> Vec<Finding> {
        let installs = find_installs(&ctx.host);
        let chosen = self.choose(&installs);
        let mut findings = vec![
            self.install(ctx, &self.specs.install, &installs, chosen),
            self.judge_version(&self.specs.version, chosen),
            self.plugin(ctx, &self.specs.plugin, chosen),
        ];
        let env = ctx.shared::<PythonEnv>();
        let link = Link::gather(ctx, chosen, &env);
        findings.push(link.interpreter(&self.specs.interpreter));
        findings.push(link.project(ctx, &self.specs.project));
        findings
    }
}

/// What the interpreter findings judge: the chosen install, its SDK table, and the exam
/// environment, or why one of them is missing.
struct Link<'a> {
    install: Option<&'a Install>,
    known: Option<Known>,
    /// The exam environment's interpreter and the environment it runs, or why not decided.
    environment: Result<(PathBuf, Environment), String>,
    os: OsFamily,
}

impl<'a> Link<'a> {
    /// The link between `chosen` and the environment the run chose.
    fn gather(ctx: &Context, chosen: Option<&'a Install>, env: &PythonEnv) -> Link<'a> {
        let environment = match env.located() {
            None => Err(
                "not decided: no Python environment was found (see python.interpreter)".to_string(),
            ),
            Some(located) => Self::environment(&located.interpreter),
        };
        Self::new(&ctx.host, chosen, environment)
    }

    fn environment(interpreter: &Path) -> Result<(PathBuf, Environment), String> {
        match Environment::of(interpreter) {
            Some(environment) => Ok((interpreter.to_path_buf(), environment)),
            None => Err(format!(
                "not decided: the exam interpreter {} is not there",
                interpreter.display()
            )),
        }
    }

    fn new(
        host: &Host,
        chosen: Option<&'a Install>,
        environment: Result<(PathBuf, Environment), String>,
    ) -> Link<'a> {
        let install = chosen.filter(|i| i.data_directory.is_some());
        let known = install.map(|i| {
            let before_2020_1 = i
                .version
                .as_ref()
                .is_some_and(|v| *v < Version::new([2020, 1]));
            Known::read(
                host,
                &i.root,
                i.data_directory.as_deref().unwrap_or_default(),
                before_2020_1,
            )
        });
        Link {
            install,
            known,
            environment,
            os: host.os,
        }
    }

    /// The finding with what was read observed, or (boxed: a finding is large) the skip that
    /// says which prerequisite is missing.
    /// `every_sdk`: list each SDK read in the details (`-v`), else only the file read.
    fn start(
        &self,
        spec: &FindingSpec,
        every_sdk: bool,
    ) -> Result<(Finding, &'a Install, &Known, &Path, &Environment), Box<Finding>> {
        let (Some(install), Some(known)) = (self.install, self.known.as_ref()) else {
            return Err(Box::new(
                spec.finding()
                    .skip("not decided: no readable PyCharm install"),
            ));
        };
        let (interpreter, environment) = match &self.environment {
            Ok((interpreter, environment)) => (interpreter.as_path(), environment),
            Err(why) => return Err(Box::new(spec.finding().skip(why.clone()))),
        };
        let mut finding = spec
            .finding()
            .observe("pycharm", install.root.display().to_string())
            .observe("environment", interpreter.display().to_string())
            .details(known.details(every_sdk));
        for (key, value) in known.observe() {
            finding = finding.observe(key, value);
        }
        if let Table::Unreadable(why) = &known.table {
            return Err(Box::new(finding.skip(format!("not decided: {why}"))));
        }
        Ok((finding, install, known, interpreter, environment))
    }

    fn add_steps(&self, install: &Install, interpreter: &Path) -> String {
        pycharm_interpreters::add_steps(
            &install.name,
            install.version.as_ref(),
            self.os,
            interpreter,
        )
    }

    fn interpreter(&self, spec: &FindingSpec) -> Finding {
        let (finding, install, known, interpreter, environment) = match self.start(spec, true) {
            Ok(started) => started,
            Err(skipped) => return *skipped,
        };
        if let Some(sdk) = known.find(environment, self.os) {
            return finding
                .observe("matched", sdk.sdk.name.clone())
                .pass(format!(
                    "{} knows {} as \"{}\"",
                    install.name,
                    interpreter.display(),
                    sdk.sdk.name
                ));
        }
        let finding = finding.observe("matched", Value::Null);
        let summary = match &known.table {
            Table::NoConfigDir => format!(
                "{} has no settings yet (it was never started; looked in {}): it knows no interpreter, not {}",
                install.name,
                known
                    .place
                    .dirs
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                interpreter.display()
            ),
            Table::NoTable => format!(
                "{} knows no interpreter yet (no {}), not {}",
                install.name,
                known
                    .table_file
                    .as_ref()
                    .map_or_else(String::new, |f| f.display().to_string()),
                interpreter.display()
            ),
            _ => {
                let listed: Vec<String> = known
                    .sdks()
                    .iter()
                    .map(|k| format!("\"{}\"", k.sdk.name))
                    .collect();
                let gone = known
                    .sdks()
                    .iter()
                    .filter(|k| k.state == SdkState::Missing)
                    .count();
                format!(
                    "{} does not know {} as an interpreter; it knows {}{}",
                    install.name,
                    interpreter.display(),
                    if listed.is_empty() {
                        "none".to_string()
                    } else {
                        listed.join(", ")
                    },
                    match gone {
                        0 => String::new(),
                        1 if listed.len() == 1 => {
                            " (which no longer exists: PyCharm shows it as invalid)".to_string()
                        }
                        1 => " (one of them no longer exists: PyCharm shows it as invalid)"
                            .to_string(),
                        n =>
                            format!(" ({n} of them no longer exist: PyCharm shows them as invalid)"),
                    }
                )
            }
        };
        finding
            .warn(summary)
            .fix(self.add_steps(install, interpreter))
    }

    fn project(&self, ctx: &Context, spec: &FindingSpec) -> Finding {
        let Some(dir) =
            pycharm_interpreters::project_dir(&ctx.host, ctx.options.project.as_deref())
        else {
            return spec.finding().skip(
                "not decided: no project given (--project DIR) and no .idea/ in the working directory",
            );
        };
        let (finding, install, known, interpreter, environment) = match self.start(spec, false) {
            Ok(started) => started,
            Err(skipped) => return (*skipped).observe("project", dir.display().to_string()),
        };
        let finding = finding.observe("project", dir.display().to_string());
        let add = self.add_steps(install, interpreter);
        if !is_dir(dir.join(".idea")) {
            return finding
                .warn(format!(
                    "{} holds no .idea/: PyCharm has not opened it as a project yet",
                    dir.display()
                ))
                .fix(format!(
                    "Open {} in {} (File > Open), then set its interpreter. {add}",
                    dir.display(),
                    install.name
                ));
        }
        let project = match pycharm_interpreters::project_sdk(&ctx.host, &dir) {
            Ok(project) => project,
            Err(why) => return finding.skip(format!("not decided: {why}")),
        };
        let finding = finding
            .observe(
                "project_files",
                project
                    .files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>(),
            )
            .observe("project_sdk", project.name.clone());
        let exam_sdk = known.find(environment, self.os);
        let switch = |name: &str| {
            pycharm_interpreters::select_steps(
                &install.name,
                install.version.as_ref(),
                self.os,
                name,
            )
        };
        let fix = match exam_sdk {
            Some(sdk) => switch(&sdk.sdk.name),
            None => format!("{add} Then pick it for the project."),
        };
        let Some(name) = &project.name else {
            return finding
                .fail_policy(format!(
                    "the project at {} has no interpreter set: it does not run on the exam venv {}",
                    dir.display(),
                    interpreter.display()
                ))
                .fix(fix);
        };
        if let Some(kind) = &project.other_type {
            return finding
                .fail_policy(format!(
                    "the project at {} runs on \"{name}\", a {kind}, not the exam venv {}",
                    dir.display(),
                    interpreter.display()
                ))
                .fix(fix);
        }
        let Some(sdk) = known.named(name) else {
            return finding
                .fail_policy(format!(
                    "the project at {} is set to \"{name}\", which {} does not know (it shows <No interpreter>), not the exam venv {}",
                    dir.display(),
                    install.name,
                    interpreter.display()
                ))
                .fix(fix);
        };
        let finding = finding.observe(
            "project_sdk_path",
            sdk.path.as_ref().map(|p| p.display().to_string()),
        );
        match &sdk.state {
            SdkState::Present(e) if e.same_as(environment, self.os) => finding.pass(format!(
                "the project at {} runs on \"{name}\", the exam venv {}",
                dir.display(),
                interpreter.display()
            )),
            _ => finding
                .fail_policy(format!(
                    "the project at {} runs on {}, not the exam venv {}",
                    dir.display(),
                    sdk.describe(),
                    interpreter.display()
                ))
                .fix(fix),
        }
    }
}

impl PyCharm {
    fn wanted(&self) -> String {
        wanted(self.version.as_ref())
    }

    fn fits(&self, install: &Install) -> bool {
        match (&self.version, &install.version) {
            (None, _) => true,
            (Some(spec), Some(v)) => spec.contains(v),
            (Some(_), None) => false,
        }
    }

    /// The install to judge: a readable one in the profile's range, else the newest readable.
    fn choose<'a>(&self, installs: &'a [Install]) -> Option<&'a Install> {
        let readable = || installs.iter().filter(|i| i.version.is_some());
        readable()
            .filter(|i| self.fits(i))
            .max_by(|a, b| a.version.cmp(&b.version))
            .or_else(|| readable().max_by(|a, b| a.version.cmp(&b.version)))
            .or_else(|| installs.first())
    }

    fn install(
        &self,
        ctx: &Context,
        spec: &FindingSpec,
        installs: &[Install],
        chosen: Option<&Install>,
    ) -> Finding {
        let Some(chosen) = chosen else {
            return spec
                .finding()
                .fail("no PyCharm install found")
                .fix(download_advice(ctx.host.os, self.version.as_ref()));
        };
        let listed: Vec<String> = installs
            .iter()
            .map(|i| match &i.problem {
                Some(p) => format!("{} ({p})", i.describe()),
                None => i.describe(),
            })
            .collect();
        let finding = spec
            .finding()
            .observe(
                "installs",
                installs
                    .iter()
                    .map(|i| i.root.display().to_string())
                    .collect::<Vec<_>>(),
            )
            .observe("chosen", chosen.root.display().to_string())
            .details(if installs.len() > 1 {
                listed
            } else {
                Vec::new()
            });
        if chosen.version.is_none() {
            return finding
                .fail(format!(
                    "found {}, but cannot read its version: {}",
                    chosen.root.display(),
                    chosen
                        .problem
                        .as_deref()
                        .unwrap_or("no product-info.json or build.txt")
                ))
                .fix(format!(
                    "Reinstall PyCharm {}: the install looks damaged.",
                    self.wanted()
                ));
        }
        let more = if installs.len() > 1 {
            format!(" ({} installs found)", installs.len())
        } else {
            String::new()
        };
        finding.pass(format!("{}{more}", chosen.describe()))
    }

    fn judge_version(&self, spec: &FindingSpec, chosen: Option<&Install>) -> Finding {
        let Some(version) = chosen.and_then(|i| i.version.as_ref()) else {
            return spec
                .finding()
                .skip("not decided: no readable PyCharm install");
        };
        let finding = spec
            .finding()
            .observe("version", version.to_string())
            .observe("wanted", self.version.as_ref().map(|v| v.to_string()));
        match &self.version {
            None => finding.pass(format!("{version} (any version will do)")),
            Some(spec) if spec.contains(version) => finding.pass(format!("{version} (wanted {spec})")),
            Some(spec) => finding
                .fail_policy(format!("PyCharm {version}, but this exam era needs {spec}"))
                .fix(format!("Install PyCharm {spec} beside it (JetBrains' download page, \"Other versions\") and open the exam from that one.")),
        }
    }

    fn plugin(&self, ctx: &Context, spec: &FindingSpec, chosen: Option<&Install>) -> Finding {
        let Some(install) = chosen.filter(|i| i.data_directory.is_some()) else {
            return spec
                .finding()
                .skip("not decided: no readable PyCharm install");
        };
        let place = pycharm_places::plugin_place(
            &ctx.host,
            &install.root,
            install.data_directory.as_deref().unwrap_or_default(),
        );
        let dirs: Vec<PathBuf> = place.dirs.iter().filter(|d| is_dir(d)).cloned().collect();
        let mut seen = Vec::new();
        for dir in &dirs {
            for (path, descriptor) in plugins_in(dir) {
                let matches = self
                    .plugin_ids
                    .iter()
                    .any(|id| descriptor.id.as_deref() == Some(id.as_str()))
                    || self.plugin_names.iter().any(|n| {
                        descriptor
                            .name
                            .as_deref()
                            .is_some_and(|d| d.eq_ignore_ascii_case(n))
                    });
                if matches {
                    return spec
                        .finding()
                        .details(
                            place
                                .moved_by
                                .iter()
                                .map(|m| format!("plugins directory set by {m}")),
                        )
                        .pass(format!(
                            "{} at {}",
                            descriptor.name.clone().unwrap_or_default(),
                            path.display()
                        ))
                        .observe("path", path.display().to_string())
                        .observe("id", descriptor.id.clone())
                        .observe("version", descriptor.version.clone());
                }
                seen.push(
                    descriptor
                        .name
                        .clone()
                        .unwrap_or_else(|| path.display().to_string()),
                );
            }
        }
        let mut looked: Vec<String> = place
            .moved_by
            .iter()
            .map(|m| format!("plugins directory set by {m}"))
            .collect();
        looked.extend(dirs.iter().map(|d| format!("looked in {}", d.display())));
        spec.finding()
            .fail(format!(
                "the exam plugin is not installed for {}",
                install.name
            ))
            .details(looked)
            .observe("plugins_seen", seen)
            .fix(format!(
                "In {}: {} > Plugins > Marketplace, search \"{}\", Install, then restart PyCharm.",
                install.name,
                if ctx.host.os == OsFamily::Macos {
                    "Preferences"
                } else {
                    "Settings"
                },
                self.plugin_names
                    .first()
                    .map_or("Google Developers Certification", String::as_str)
            ))
    }
}

/// How to install PyCharm on this OS. With a pinned version, only ways that install that
/// version: the download page's "Other versions". The snap is offered only when any version
/// will do, as no public page states which snap channel holds an older release.
fn download_advice(os: OsFamily, version: Option<&VersionSpecifiers>) -> String {
    let package = match os {
        OsFamily::Windows => "the Windows installer (.exe)",
        OsFamily::Macos => "the macOS disk image (.dmg: Apple Silicon or Intel, as your Mac)",
        _ => "the Linux tarball (.tar.gz)",
    };
    match version.filter(|v| !v.to_string().is_empty()) {
        None => {
            let snap = if matches!(os, OsFamily::Linux | OsFamily::Other) {
                ", or `sudo snap install pycharm-community --classic`"
            } else {
                ""
            };
            format!("Install PyCharm: from JetBrains' PyCharm download page take {package}{snap}.")
        }
        Some(spec) => format!(
            "Install PyCharm {spec}: on JetBrains' PyCharm download page open \"Other versions\", pick the newest release that matches {spec} and take {package}. The main download button, the snap and Toolbox's default give the latest release, not this one."
        ),
    }
}

/// Where installs live on the host's OS, as candidate install roots.
fn find_installs(host: &Host) -> Vec<Install> {
    let mut roots: Vec<PathBuf> = Vec::new();
    let home = host.home.clone();
    let children = pycharm_places::children_named;
    match host.os {
        OsFamily::Macos => {
            let mut apps = vec![host.system_path("/Applications")];
            apps.extend(home.as_ref().map(|h| h.join("Applications")));
            for dir in apps {
                roots.extend(
                    children(&dir, "pycharm")
                        .into_iter()
                        .map(|app| app.join("Contents")),
                );
            }
            if let Some(h) = &home {
                roots.extend(macos_toolbox(
                    &h.join("Library/Application Support/JetBrains/Toolbox/apps"),
                ));
            }
        }
        OsFamily::Windows => {
            let program_files = host.env("ProgramFiles").unwrap_or("C:\\Program Files");
            roots.extend(children(
                &Path::new(program_files).join("JetBrains"),
                "pycharm",
            ));
            if let Some(local) = host.env("LOCALAPPDATA") {
                roots.extend(toolbox(
                    &Path::new(local)
                        .join("JetBrains")
                        .join("Toolbox")
                        .join("apps"),
                ));
                roots.extend(children(&Path::new(local).join("Programs"), "pycharm"));
            }
        }
        _ => {
            roots.extend(children(&host.system_path("/opt"), "pycharm"));
            for snap in [
                "/snap/pycharm-community/current",
                "/snap/pycharm-professional/current",
            ] {
                roots.push(host.system_path(snap));
            }
            if let Some(h) = &home {
                roots.extend(toolbox(&h.join(".local/share/JetBrains/Toolbox/apps")));
            }
            roots.extend(pycharm_places::linux_install_roots(host));
        }
    }
    roots.extend(pycharm_places::toolbox_state_roots(host));
    for launcher in [
        "pycharm",
        "pycharm.sh",
        "charm",
        "pycharm-community",
        "pycharm-professional",
    ] {
        if let Some(found) = host.which(launcher).and_then(|p| canonicalize(&p).ok()) {
            // bin/pycharm.sh -> the install root two levels up.
            roots.extend(found.parent().and_then(Path::parent).map(Path::to_path_buf));
        }
    }
    let mut installs: Vec<Install> = Vec::new();
    for root in roots {
        let Some(install) = read_install(&root) else {
            continue;
        };
        let canonical = canonicalize(&root).unwrap_or(root);
        if installs
            .iter()
            .any(|i| canonicalize(&i.root).ok().as_ref() == Some(&canonical))
        {
            continue;
        }
        installs.push(install);
    }
    installs
}

/// Toolbox 1.x keeps `PyCharm-C/ch-0/<build>/`; 2.x keeps `pycharm-community/` (or
/// `pycharm-professional/`, `pycharm/`) directly under `apps`.
fn toolbox(apps: &Path) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    let Ok(entries) = read_dir(apps) else {
        return roots;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if !name.starts_with("pycharm") {
            continue;
        }
        let product = entry.path();
        let channels = read_dir(&product).into_iter().flatten().flatten();
        let mut builds: Vec<PathBuf> = channels
            .filter(|c| c.file_name().to_string_lossy().starts_with("ch-"))
            .flat_map(|c| read_dir(c.path()).into_iter().flatten().flatten())
            .map(|b| b.path())
            .filter(|b| is_dir(b) && !b.to_string_lossy().ends_with(".plugins"))
            .collect();
        builds.sort();
        if builds.is_empty() {
            roots.push(product);
        } else {
            roots.extend(builds);
        }
    }
    roots
}

/// Toolbox 1.x on macOS puts the app inside the build folder:
/// `PyCharm-C/ch-0/<build>/PyCharm CE.app` (`PyCharm-P/.../PyCharm.app`); its install root
/// is the app's `Contents`.
fn macos_toolbox(apps: &Path) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    for build in toolbox(apps) {
        let mut bundles: Vec<PathBuf> = crate::host::read_dir(&build)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                let name = name.to_ascii_lowercase();
                name.starts_with("pycharm") && name.ends_with(".app")
            })
            .map(|app| app.join("Contents"))
            .collect();
        bundles.sort();
        if bundles.is_empty() {
            roots.push(build);
        } else {
            roots.extend(bundles);
        }
    }
    roots
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductInfo {
    name: Option<String>,
    version: Option<String>,
    build_number: Option<String>,
    product_code: Option<String>,
    data_directory_name: Option<String>,
}

/// Read an install's description: `product-info.json` (macOS: under `Resources/`), else
/// `build.txt`. `None` when the folder holds neither (not an install).
pub fn read_install(root: &Path) -> Option<Install> {
    let info_path = [
        root.join("product-info.json"),
        root.join("Resources/product-info.json"),
    ]
    .into_iter()
    .find(|p| is_file(p));
    let build_path = [root.join("build.txt"), root.join("Resources/build.txt")]
        .into_iter()
        .find(|p| is_file(p));
    if info_path.is_none() && build_path.is_none() {
        return None;
    }
    let mut problems = Vec::new();
    if let Some(path) = &info_path {
        match read_small(path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<ProductInfo>(&t).map_err(|e| e.to_string()))
        {
            Ok(info) => {
                let version = info
                    .version
                    .as_deref()
                    .and_then(|v| Version::from_str(v).ok());
                if version.is_some() {
                    let code = info.product_code.clone().or_else(|| {
                        info.build_number
                            .as_deref()
                            .and_then(|b| b.split('-').next().map(str::to_string))
                    });
                    let community = code.as_deref() == Some("PC")
                        || info
                            .name
                            .as_deref()
                            .is_some_and(|n| n.contains("Community"));
                    return Some(Install {
                        root: root.to_path_buf(),
                        name: info.name.unwrap_or_else(|| edition(community).into()),
                        build: info.build_number.map(|b| {
                            if b.contains('-') {
                                b
                            } else {
                                format!("{}-{b}", code.as_deref().unwrap_or("PY"))
                            }
                        }),
                        data_directory: info.data_directory_name,
                        version,
                        community,
                        problem: None,
                    });
                }
                problems.push(format!("{} has no usable version", path.display()));
            }
            Err(e) => problems.push(format!("{} is unreadable: {e}", path.display())),
        }
    }
    if let Some(path) = &build_path {
        match read_small(path)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_build(t.trim()))
        {
            Ok((code, version, build)) => {
                let community = code == "PC";
                let data_directory =
                    format!("PyCharm{}{}", if community { "CE" } else { "" }, version);
                return Some(Install {
                    root: root.to_path_buf(),
                    name: edition(community).into(),
                    version: Some(version),
                    build: Some(build),
                    data_directory: Some(data_directory),
                    community,
                    problem: (!problems.is_empty()).then(|| problems.join("; ")),
                });
            }
            Err(e) => problems.push(format!("{} is unreadable: {e}", path.display())),
        }
    }
    Some(Install {
        root: root.to_path_buf(),
        name: "PyCharm".into(),
        version: None,
        build: None,
        data_directory: None,
        community: false,
        problem: Some(problems.join("; ")),
    })
}

fn edition(community: bool) -> &'static str {
    if community {
        "PyCharm Community Edition"
    } else {
        "PyCharm Professional"
    }
}

/// `PC-231.8109.197` -> (`PC`, 2023.1, the build). JetBrains codes: PY Professional, PC Community.
fn parse_build(text: &str) -> Result<(String, Version, String), String> {
    let (code, number) = text.split_once('-').ok_or_else(|| {
        format!(
            "`{}` is not a build number like PC-231.8109.197",
            truncate(text)
        )
    })?;
    if !matches!(code, "PC" | "PY" | "PE") {
        return Err(format!(
            "`{}` is not a PyCharm build (product code {})",
            truncate(text),
            truncate(code)
        ));
    }
    let branch: u64 = number
        .split('.')
        .next()
        .and_then(|b| b.parse().ok())
        .filter(|b| (100..1000).contains(b))
        .ok_or_else(|| format!("`{}` has no branch number", truncate(text)))?;
    let version = Version::new([2000 + branch / 10, branch % 10]);
    Ok((code.to_string(), version, text.to_string()))
}

fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Every plugin in a plugin directory with what its plugin.xml says. A plugin is a folder
/// (with `META-INF/plugin.xml`, or jars under `lib/`) or a jar.
fn plugins_in(dir: &Path) -> Vec<(PathBuf, Descriptor)> {
    let Ok(entries) = read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let descriptor = if is_dir(&path) {
            read_small(&path.join("META-INF/plugin.xml"))
                .ok()
                .and_then(|xml| descriptor(&xml).ok())
                .or_else(|| {
                    let jars = read_dir(path.join("lib")).into_iter().flatten().flatten();
                    jars.map(|j| j.path())
                        .filter(|j| j.extension().is_some_and(|e| e == "jar"))
                        .find_map(|j| plugin_xml_in_jar(&j))
                })
        } else if path.extension().is_some_and(|e| e == "jar") {
            plugin_xml_in_jar(&path)
        } else {
            None
        };
        if let Some(d) = descriptor {
            found.push((path, d));
        }
    }
    found
}

/// Plugin jars are small; a large one is not a plugin descriptor worth reading whole.
const JAR_LIMIT: u64 = 64 * SMALL_FILE_LIMIT;

fn plugin_xml_in_jar(jar: &Path) -> Option<Descriptor> {
    use std::io::Read;
    let bytes = read_bounded(jar, JAR_LIMIT).ok()?;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let entry = archive.by_name("META-INF/plugin.xml").ok()?;
    let mut xml = String::new();
    entry.take(SMALL_FILE_LIMIT).read_to_string(&mut xml).ok()?;
    descriptor(&xml).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_numbers_map_to_versions() {
        let (code, version, _) = parse_build("PC-231.8109.197").unwrap();
        assert_eq!(
            (code.as_str(), version.to_string()),
            ("PC", "2023.1".to_string())
        );
        assert_eq!(
            parse_build("PY-203.7148.72").unwrap().1.to_string(),
            "2020.3"
        );
        assert!(parse_build("garbage").is_err());
        assert!(parse_build("IC-231.1").is_err());
        assert!(parse_build("PC-x").is_err());
    }

    #[test]
    fn ide_versions_compare_numerically() {
        let spec = VersionSpecifiers::from_str(">=2020.2,<2020.3").unwrap();
        assert!(spec.contains(&Version::from_str("2020.2.5").unwrap()));
        assert!(!spec.contains(&Version::from_str("2020.3").unwrap()));
        assert!(Version::from_str("2020.10").unwrap() > Version::from_str("2020.9").unwrap());
    }

    #[test]
    fn pinned_versions_get_advice_that_installs_them() {
        let spec = VersionSpecifiers::from_str(">=2020.2,<2020.3").unwrap();
        for os in [OsFamily::Linux, OsFamily::Macos, OsFamily::Windows] {
            let advice = download_advice(os, Some(&spec));
            assert!(advice.contains("\"Other versions\""), "{advice}");
            assert!(advice.contains(">=2020.2, <2020.3"), "{advice}");
            assert!(!advice.contains("snap install"), "{advice}");
        }
        assert!(download_advice(OsFamily::Linux, None).contains("snap install"));
        assert!(!download_advice(OsFamily::Windows, None).contains("snap"));
    }
}
