//! EXIF dates read straight from a TIFF-structured file (DNG, CR2, NEF,
//! ARW, RW2, ORF...) when nom-exif gives up on it: it refuses the whole
//! file when one IFD runs past the end (cut-down samples, a thumbnail
//! strip cut off) and does not know Panasonic's RW2 header. Only IFD0's
//! pointer to the EXIF IFD and that IFD's three date tags are read.

use std::io::{Read, Seek, SeekFrom};

/// Entries read from one IFD, at most.
const MAX_ENTRIES: u16 = 1024;
const EXIF_IFD: u16 = 0x8769;
const DATE_TIME_ORIGINAL: u16 = 0x9003;
const DATE_TIME_DIGITIZED: u16 = 0x9004;
const SUB_SEC_ORIGINAL: u16 = 0x9291;
const ASCII: u16 = 2;

/// `DateTimeOriginal`, `DateTimeDigitized` and `SubSecTimeOriginal` as
/// the camera wrote them (`2024:03:15 14:22:33`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TiffDates {
    pub original: Option<String>,
    pub digitized: Option<String>,
    pub sub_seconds: Option<String>,
}

pub fn read(file: &mut (impl Read + Seek)) -> std::io::Result<TiffDates> {
    let mut header = [0; 8];
    file.seek(SeekFrom::Start(0))?;
    file.read_exact(&mut header)?;
    let big_endian = match &header[0..2] {
        b"II" => false,
        b"MM" => true,
        _ => return Ok(TiffDates::default()),
    };
    let number = |bytes: &[u8]| -> u32 {
        let mut value = 0u32;
        let ordered: Vec<u8> = match big_endian {
            true => bytes.to_vec(),
            false => bytes.iter().rev().copied().collect(),
        };
        for byte in ordered {
            value = value << 8 | u32::from(byte);
        }
        value
    };
    // 42 is TIFF; 0x55 Panasonic's RW2; 0x4f52 and 0x5352 Olympus's ORF.
    if ![42, 0x55, 0x4f52, 0x5352].contains(&number(&header[2..4])) {
        return Ok(TiffDates::default());
    }
    let ifd0 = entries(file, u64::from(number(&header[4..8])), &number)?;
    let Some(exif) = ifd0.iter().find(|e| e.tag == EXIF_IFD) else {
        return Ok(TiffDates::default());
    };
    let exif = entries(file, u64::from(number(&exif.value)), &number)?;
    let mut text = |tag| -> std::io::Result<Option<String>> {
        match exif.iter().find(|e| e.tag == tag && e.kind == ASCII) {
            Some(entry) => ascii(file, entry, &number),
            None => Ok(None),
        }
    };
    Ok(TiffDates {
        original: text(DATE_TIME_ORIGINAL)?,
        digitized: text(DATE_TIME_DIGITIZED)?,
        sub_seconds: text(SUB_SEC_ORIGINAL)?,
    })
}

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// The value itself when it fits in 4 bytes, else its offset.
    value: [u8; 4],
}

fn entries(
    file: &mut (impl Read + Seek),
    offset: u64,
    number: &dyn Fn(&[u8]) -> u32,
) -> std::io::Result<Vec<Entry>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut count = [0; 2];
    file.read_exact(&mut count)?;
    let count = (number(&count) as u16).min(MAX_ENTRIES);
    let mut raw = vec![0; usize::from(count) * 12];
    file.read_exact(&mut raw)?;
    Ok(raw
        .chunks_exact(12)
        .map(|entry| Entry {
            tag: number(&entry[0..2]) as u16,
            kind: number(&entry[2..4]) as u16,
            count: number(&entry[4..8]),
            value: entry[8..12].try_into().expect("4 bytes"),
        })
        .collect())
}

fn ascii(
    file: &mut (impl Read + Seek),
    entry: &Entry,
    number: &dyn Fn(&[u8]) -> u32,
) -> std::io::Result<Option<String>> {
    let count = entry.count.min(64) as usize;
    let bytes = match count <= 4 {
        true => entry.value[..count].to_vec(),
        false => {
            file.seek(SeekFrom::Start(u64::from(number(&entry.value))))?;
            let mut bytes = vec![0; count];
            file.read_exact(&mut bytes)?;
            bytes
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.trim_end_matches('\0').trim();
    Ok((!text.is_empty()).then(|| text.to_owned()))
}
