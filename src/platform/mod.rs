//! What each operating system says, as pure parsers over its tools' and files' text; the
//! checks keep only the judging. Parsers compile and are tested on every OS; only the thin
//! readers that feed them (through [`crate::host`]) touch the machine. Two modules gather for
//! the whole run: [`facts`] (the hardware and OS a `Host` carries) and [`proxy`] (the OS's
//! own proxy setting, which pip follows).

pub mod facts;
pub mod linux;
pub mod macos;
pub mod proxy;
pub mod shell;
pub mod windows;

/// Where this runs, when that is why a device is not seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// "a Docker container", "a Podman container", "a container".
    Container(&'static str),
    Wsl,
    /// With the hypervisor's name when it is known.
    VirtualMachine(Option<&'static str>),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Container(kind) => f.write_str(kind),
            Place::Wsl => f.write_str("WSL"),
            Place::VirtualMachine(Some(name)) => write!(f, "a virtual machine ({name})"),
            Place::VirtualMachine(None) => f.write_str("a virtual machine"),
        }
    }
}

/// A hypervisor recognised in a machine's vendor and model strings: Linux's
/// `/sys/class/dmi/id/{sys_vendor,product_name}`, Windows' `Win32_ComputerSystem`
/// manufacturer and model (the firmware's SMBIOS tables behind both).
pub fn hypervisor_named(vendor_and_model: &str) -> Option<&'static str> {
    const MARKERS: &[(&str, &str)] = &[
        ("virtualbox", "VirtualBox"),
        ("vmware", "VMware"),
        ("qemu", "QEMU/KVM"),
        ("kvm", "QEMU/KVM"),
        ("standard pc (", "QEMU/KVM"),
        ("microsoft corporation virtual machine", "Hyper-V"),
        ("hyper-v", "Hyper-V"),
        ("parallels", "Parallels"),
        ("xen", "Xen"),
        ("bochs", "Bochs"),
        ("amazon ec2", "Amazon EC2"),
        ("google compute engine", "Google Compute Engine"),
    ];
    let lower = vendor_and_model.to_lowercase();
    MARKERS
        .iter()
        .find(|(marker, _)| lower.contains(marker))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypervisors_are_recognised_by_vendor_and_model() {
        // `sys_vendor` and `product_name` (or Win32_ComputerSystem's Manufacturer and
        // Model) as each hypervisor's firmware reports them.
        for (vendor_and_model, named) in [
            ("innotek GmbH VirtualBox", Some("VirtualBox")),
            ("VMware, Inc. VMware Virtual Platform", Some("VMware")),
            ("VMware, Inc. VMware20,1", Some("VMware")),
            ("QEMU Standard PC (Q35 + ICH9, 2009)", Some("QEMU/KVM")),
            ("QEMU Standard PC (i440FX + PIIX, 1996)", Some("QEMU/KVM")),
            ("Red Hat KVM", Some("QEMU/KVM")),
            ("Microsoft Corporation Virtual Machine", Some("Hyper-V")),
            (
                "Parallels Software International Inc. Parallels Virtual Platform",
                Some("Parallels"),
            ),
            ("Xen HVM domU", Some("Xen")),
            ("Amazon EC2 t3.micro", Some("Amazon EC2")),
            (
                "Google Google Compute Engine",
                Some("Google Compute Engine"),
            ),
            ("LENOVO 20XW", None),
            ("Dell Inc. Latitude 7420", None),
            ("Microsoft Corporation Surface Laptop 4", None),
            ("", None),
        ] {
            assert_eq!(
                hypervisor_named(vendor_and_model),
                named,
                "{vendor_and_model}"
            );
        }
    }

    #[test]
    fn places_read_as_words() {
        assert_eq!(
            Place::Container("a Docker container").to_string(),
            "a Docker container"
        );
        assert_eq!(Place::Wsl.to_string(), "WSL");
        assert_eq!(
            Place::VirtualMachine(Some("VMware")).to_string(),
            "a virtual machine (VMware)"
        );
        assert_eq!(Place::VirtualMachine(None).to_string(), "a virtual machine");
    }
}
