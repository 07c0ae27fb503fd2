//! Video devices as their Linux drivers describe them (V4L2), behind a trait so tests can
//! answer for hardware this machine does not have.
//!
//! The ioctls go through rustix: it is already our door to the kernel (statvfs, process
//! groups), it is small and well kept, and its typed `ioctl` patterns keep the unsafe part
//! to two calls whose layouts are checked at compile time. A full V4L2 binding (`v4l`) would
//! pull in bindgen-generated headers to make two calls.

use std::path::Path;

/// What `VIDIOC_QUERYCAP` tells about one device node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    pub driver: String,
    /// The device's own name, e.g. "Integrated Camera: Integrated C".
    pub card: String,
    pub bus_info: String,
    /// This node's capabilities (`device_caps`), or the whole device's where the driver is
    /// too old to report them per node.
    pub caps: u32,
}

pub const CAP_VIDEO_CAPTURE: u32 = 0x0000_0001;
pub const CAP_VIDEO_CAPTURE_MPLANE: u32 = 0x0000_1000;
pub const CAP_VIDEO_M2M_MPLANE: u32 = 0x0000_4000;
pub const CAP_VIDEO_M2M: u32 = 0x0000_8000;
pub const CAP_META_CAPTURE: u32 = 0x0080_0000;
/// Set when `device_caps` is filled in (Linux 3.3 and later).
pub const CAP_DEVICE_CAPS: u32 = 0x8000_0000;

impl Capability {
    /// A node a program can take pictures from. Memory-to-memory nodes (hardware codecs)
    /// also "capture", but only what was fed to them.
    pub fn captures_video(&self) -> bool {
        let capture = CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE;
        let m2m = CAP_VIDEO_M2M | CAP_VIDEO_M2M_MPLANE;
        self.caps & capture != 0 && self.caps & m2m == 0
    }

    /// A UVC camera's second node: frame timestamps and such, never pictures.
    pub fn metadata_only(&self) -> bool {
        !self.captures_video() && self.caps & CAP_META_CAPTURE != 0
    }

    /// Whether the capture queue speaks the multi-planar API (for the busy probe).
    pub fn multiplanar(&self) -> bool {
        self.caps & CAP_VIDEO_CAPTURE == 0 && self.caps & CAP_VIDEO_CAPTURE_MPLANE != 0
    }
}

/// The answer for one `/dev/video*` node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Opened and identified; `busy` when another program holds its capture queue.
    Identified { capability: Capability, busy: bool },
    /// The node may not be opened for reading and writing by this user.
    PermissionDenied,
    /// The driver refused the open itself because another program has the device.
    BusyOnOpen,
    /// Opened, but it does not answer `VIDIOC_QUERYCAP`: not a V4L2 device.
    NotV4l2,
    /// Anything else, with the system's words for it.
    Failed(String),
}

/// Opens a video node and asks its driver what it is. Production asks the kernel; tests
/// answer with whatever hardware they need.
pub trait VideoDevices: Send + Sync {
    fn probe(&self, node: &Path) -> Probe;
}

/// The running kernel's devices.
pub struct KernelVideoDevices;

impl VideoDevices for KernelVideoDevices {
    fn probe(&self, node: &Path) -> Probe {
        #[cfg(target_os = "linux")]
        {
            linux::probe(node)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = node;
            Probe::Failed("V4L2 devices exist only on Linux".into())
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::path::Path;

    use rustix::fd::OwnedFd;
    use rustix::fs::{Mode, OFlags, open};
    use rustix::io::Errno;
    use rustix::ioctl::{Getter, Opcode, Updater, ioctl, opcode};

    use super::{CAP_DEVICE_CAPS, Capability, Probe};

    /// `struct v4l2_capability` from `<linux/videodev2.h>`.
    #[repr(C)]
    struct RawCapability {
        driver: [u8; 16],
        card: [u8; 32],
        bus_info: [u8; 32],
        version: u32,
        capabilities: u32,
        device_caps: u32,
        reserved: [u32; 3],
    }

    /// `struct v4l2_requestbuffers`.
    #[repr(C)]
    struct RequestBuffers {
        count: u32,
        kind: u32,
        memory: u32,
        capabilities: u32,
        flags: u8,
        reserved: [u8; 3],
    }

    const _: () = assert!(size_of::<RawCapability>() == 104);
    const _: () = assert!(size_of::<RequestBuffers>() == 20);

    pub(super) const VIDIOC_QUERYCAP: Opcode = opcode::read::<RawCapability>(b'V', 0);
    pub(super) const VIDIOC_REQBUFS: Opcode = opcode::read_write::<RequestBuffers>(b'V', 8);
    const BUF_TYPE_VIDEO_CAPTURE: u32 = 1;
    const BUF_TYPE_VIDEO_CAPTURE_MPLANE: u32 = 9;
    const MEMORY_MMAP: u32 = 1;

    pub fn probe(node: &Path) -> Probe {
        // Read and write, as a program taking a picture opens it; non-blocking so a stuck
        // device cannot hold the check.
        let flags = OFlags::RDWR | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
        let fd = match open(node, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::ACCESS | Errno::PERM) => return Probe::PermissionDenied,
            Err(Errno::BUSY) => return Probe::BusyOnOpen,
            Err(e) => return Probe::Failed(e.to_string()),
        };
        // SAFETY: the opcode is VIDIOC_QUERYCAP, whose argument is `struct v4l2_capability`,
        // laid out by `RawCapability` (size checked above).
        let raw = match unsafe { ioctl(&fd, Getter::<VIDIOC_QUERYCAP, RawCapability>::new()) } {
            Ok(raw) => raw,
            Err(Errno::NOTTY | Errno::INVAL) => return Probe::NotV4l2,
            Err(e) => return Probe::Failed(e.to_string()),
        };
        let caps = if raw.capabilities & CAP_DEVICE_CAPS != 0 {
            raw.device_caps
        } else {
            raw.capabilities
        };
        let capability = Capability {
            driver: c_string(&raw.driver),
            card: c_string(&raw.card),
            bus_info: c_string(&raw.bus_info),
            caps,
        };
        let busy = capability.captures_video() && capture_queue_taken(&fd, &capability);
        Probe::Identified { capability, busy }
    }

    /// Asking for zero buffers changes nothing, but drivers refuse it with EBUSY while
    /// another open file owns the capture queue (it is streaming or holds buffers).
    fn capture_queue_taken(fd: &OwnedFd, capability: &Capability) -> bool {
        let mut request = RequestBuffers {
            count: 0,
            kind: if capability.multiplanar() {
                BUF_TYPE_VIDEO_CAPTURE_MPLANE
            } else {
                BUF_TYPE_VIDEO_CAPTURE
            },
            memory: MEMORY_MMAP,
            capabilities: 0,
            flags: 0,
            reserved: [0; 3],
        };
        // SAFETY: the opcode is VIDIOC_REQBUFS, whose argument is `struct
        // v4l2_requestbuffers`, laid out by `RequestBuffers` (size checked above).
        let answer = unsafe { ioctl(fd, Updater::<VIDIOC_REQBUFS, _>::new(&mut request)) };
        answer == Err(Errno::BUSY)
    }

    fn c_string(bytes: &[u8]) -> String {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn opcodes_match_the_kernel_headers() {
        // The values of VIDIOC_QUERYCAP and VIDIOC_REQBUFS in <linux/videodev2.h> on x86-64
        // and arm64.
        assert_eq!(linux::VIDIOC_QUERYCAP as u64, 0x8068_5600);
        assert_eq!(linux::VIDIOC_REQBUFS as u64, 0xc014_5608);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_regular_file_is_not_a_video_device() {
        let file = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(KernelVideoDevices.probe(file.path()), Probe::NotV4l2);
    }

    #[test]
    fn capture_metadata_and_codec_nodes_are_told_apart() {
        let node = |caps| Capability {
            driver: "uvcvideo".into(),
            card: "Camera".into(),
            bus_info: String::new(),
            caps,
        };
        assert!(node(CAP_VIDEO_CAPTURE).captures_video());
        assert!(node(CAP_VIDEO_CAPTURE_MPLANE).multiplanar());
        assert!(node(CAP_META_CAPTURE).metadata_only());
        assert!(!node(CAP_VIDEO_M2M | CAP_VIDEO_CAPTURE).captures_video());
        assert!(!node(CAP_VIDEO_M2M_MPLANE).metadata_only());
    }
}
