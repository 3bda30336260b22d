//! A pcap file of raw IP packets (`LINKTYPE_RAW`, 101), for targets whose
//! wire the harness sees whole and no library writes for it (the bundled
//! HTTP/2 connection, whose byte stream is written as the TCP segments of
//! one connection so that Wireshark's HTTP/2 dissector reads it).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use crate::target::{Segment, HARNESS_PORT, IUT_PORT};
use crate::trace::Flags;
use crate::wire::{encode_ipv4, HARNESS_ADDR, IUT_ADDR};

/// `LINKTYPE_RAW`: an IPv4 or IPv6 packet without a link header.
const LINKTYPE_RAW: u32 = 101;

pub struct PcapFile {
    out: BufWriter<File>,
}

impl PcapFile {
    /// A new file with pcap's global header (version 2.4, microseconds).
    pub fn create(path: &Path) -> io::Result<PcapFile> {
        let mut out = BufWriter::new(File::create(path)?);
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&65_535u32.to_le_bytes())?;
        out.write_all(&LINKTYPE_RAW.to_le_bytes())?;
        Ok(PcapFile { out })
    }

    /// One packet, stamped `at` from the start of the capture.
    pub fn packet(&mut self, at: Duration, data: &[u8]) -> io::Result<()> {
        self.out.write_all(&(at.as_secs() as u32).to_le_bytes())?;
        self.out.write_all(&at.subsec_micros().to_le_bytes())?;
        self.out.write_all(&(data.len() as u32).to_le_bytes())?;
        self.out.write_all(&(data.len() as u32).to_le_bytes())?;
        self.out.write_all(data)?;
        self.out.flush()
    }
}

/// A byte stream both ways (harness and IUT) written as the data segments
/// of one TCP connection between the harness's and the IUT's ports, with
/// sequence numbers counting the bytes.
pub struct StreamCapture {
    file: PcapFile,
    /// The next sequence number of the harness and of the IUT.
    seq: [u32; 2],
    /// Packets written, one microsecond apart to keep their order.
    count: u64,
}

impl StreamCapture {
    pub fn create(path: &Path) -> io::Result<StreamCapture> {
        Ok(StreamCapture {
            file: PcapFile::create(path)?,
            seq: [1, 1],
            count: 0,
        })
    }

    /// `bytes` sent by the harness (`from_harness`) or by the IUT.
    pub fn bytes(&mut self, from_harness: bool, bytes: &[u8]) -> io::Result<()> {
        // Below a 65 535-byte IP packet with its 40 bytes of headers.
        for chunk in bytes.chunks(60_000) {
            let (me, peer) = if from_harness { (0, 1) } else { (1, 0) };
            let (src_port, dst_port) = if from_harness {
                (HARNESS_PORT, IUT_PORT)
            } else {
                (IUT_PORT, HARNESS_PORT)
            };
            let seg = Segment {
                src_port,
                dst_port,
                seq: self.seq[me],
                ack: self.seq[peer],
                flags: Flags {
                    psh: true,
                    ack: true,
                    ..Flags::default()
                },
                window: u16::MAX,
                payload: chunk.to_vec(),
            };
            let (src, dst) = if from_harness {
                (HARNESS_ADDR, IUT_ADDR)
            } else {
                (IUT_ADDR, HARNESS_ADDR)
            };
            self.seq[me] = self.seq[me].wrapping_add(chunk.len() as u32);
            self.file.packet(
                Duration::from_micros(self.count),
                &encode_ipv4(&seg, src, dst, None),
            )?;
            self.count += 1;
        }
        Ok(())
    }
}
