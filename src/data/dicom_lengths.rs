//! A walk over a DICOM file's element headers that refuses any value longer than the bytes
//! left in the file, and any structure a valid file never has, before dicom-rs parses it.
//!
//! The parser allocates (and zero-fills) each value at the length its header declares, so a
//! few bytes claiming a 3 GB value would grow the page's memory by 3 GB before failing; in
//! WebAssembly that memory is never given back. The walk follows the parser's reading (same
//! header layouts, unknown VRs read as UN, whole numbers only) and keeps track of sequences and
//! items; where the two could part ways (an item outside a sequence, an undefined length on a
//! plain value, a delimiter that closes nothing) the file is refused as damaged. After this
//! check every value the parser allocates is bounded by the size of the file.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

use crate::data::decode::DecodeError;

const UNDEFINED: u32 = u32::MAX;
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const TRANSFER_SYNTAX: Tag = Tag(0x0002, 0x0010);
const ITEM: u16 = 0xE000;
const ITEM_END: u16 = 0xE00D;
const SEQUENCE_END: u16 = 0xE0DD;

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    ExplicitLittle,
    ImplicitLittle,
    ExplicitBig,
}

/// What the walk is inside of; `end` is where a defined length closes it.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Sequence {
        end: Option<usize>,
    },
    Item {
        end: Option<usize>,
    },
    /// Encapsulated pixel data: items of compressed bytes, closed by a sequence delimiter.
    PixelFragments,
}

/// `bytes`: what follows `DICM` (the file meta group, then the data set).
pub fn check_declared_lengths(bytes: &[u8]) -> Result<(), DecodeError> {
    let (mut pos, encoding) = walk_meta_group(bytes)?;
    let mut open: Vec<Open> = Vec::new();
    while pos + 8 <= bytes.len() {
        // Close what ends here.
        while let Some(Open::Sequence { end: Some(end) } | Open::Item { end: Some(end) }) = open.last() {
            if pos < *end {
                break;
            }
            open.pop();
        }
        let read16 = |at: usize| {
            let b = [bytes[at], bytes[at + 1]];
            if encoding == Encoding::ExplicitBig {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            }
        };
        let read32 = |at: usize| {
            let b = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
            if encoding == Encoding::ExplicitBig {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        let tag = Tag(read16(pos), read16(pos + 2));
        let rest = |from: usize| bytes.len().saturating_sub(from);
        let fits = |length: u32, from: usize| {
            if length as usize > rest(from) {
                damaged(format!("element {tag} claims {length} bytes but only {} are left", rest(from)))
            } else {
                Ok(())
            }
        };

        // Items and delimiters: the same 8-byte header in every encoding.
        if tag.group() == 0xFFFE {
            let length = read32(pos + 4);
            pos += 8;
            match (tag.element(), open.last().copied()) {
                (ITEM, Some(Open::PixelFragments)) if length != UNDEFINED => {
                    fits(length, pos)?;
                    pos += length as usize;
                }
                (ITEM, Some(Open::Sequence { .. })) => {
                    let end = if length == UNDEFINED { None } else { fits(length, pos).map(|_| Some(pos + length as usize))? };
                    open.push(Open::Item { end });
                }
                (ITEM_END, Some(Open::Item { end: None })) => {
                    open.pop();
                }
                (SEQUENCE_END, Some(Open::Sequence { end: None } | Open::PixelFragments)) => {
                    open.pop();
                }
                _ => return damaged(format!("{tag} does not fit where it is")),
            }
            continue;
        }
        if matches!(open.last(), Some(Open::Sequence { .. } | Open::PixelFragments)) {
            return damaged(format!("element {tag} stands where an item should"));
        }

        let (vr, length, header) = match encoding {
            Encoding::ImplicitLittle => (implicit_vr(tag), read32(pos + 4), 8),
            Encoding::ExplicitLittle | Encoding::ExplicitBig => {
                // As the parser does: an unknown VR is read as UN.
                let vr = VR::from_binary([bytes[pos + 4], bytes[pos + 5]]).unwrap_or(VR::UN);
                if has_long_length(vr) {
                    if pos + 12 > bytes.len() {
                        break;
                    }
                    (vr, read32(pos + 8), 12)
                } else {
                    (vr, read16(pos + 6) as u32, 8)
                }
            }
        };
        pos += header;
        if length == UNDEFINED {
            match vr {
                VR::OB | VR::OW if tag == PIXEL_DATA => open.push(Open::PixelFragments),
                VR::SQ => open.push(Open::Sequence { end: None }),
                // In implicit VR an element the dictionary does not know is read as a sequence.
                VR::UN if encoding == Encoding::ImplicitLittle => open.push(Open::Sequence { end: None }),
                _ => return damaged(format!("element {tag} has no length")),
            }
            continue;
        }
        fits(length, pos)?;
        // The parser reads whole numbers only: a remainder would shift every later header.
        if let Some(size) = number_size(vr) {
            if !(length as usize).is_multiple_of(size) {
                return damaged(format!("element {tag} holds {length} bytes of {size}-byte numbers"));
            }
        }
        if vr == VR::SQ {
            open.push(Open::Sequence { end: Some(pos + length as usize) });
            continue;
        }
        pos += length as usize;
    }
    Ok(())
}

fn damaged<T>(what: String) -> Result<T, DecodeError> {
    Err(DecodeError::Dicom(format!("{what}; the file is damaged or cut short")))
}

/// The file meta group, read as dicom-object reads it: explicit VR little endian, starting with
/// its own length, then elements (of any group) until that many bytes are consumed. Returns
/// where the data set starts and how it is encoded (named by the transfer syntax UID).
fn walk_meta_group(bytes: &[u8]) -> Result<(usize, Encoding), DecodeError> {
    let le16 = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let le32 = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    if bytes.len() < 12 || (le16(0), le16(2)) != (0x0002, 0x0000) || le16(6) != 4 {
        return damaged("the file meta group does not start with its length".into());
    }
    let group_length = le32(8) as usize;
    let (mut pos, mut consumed) = (12usize, 0usize);
    let mut transfer_syntax = String::new();
    while consumed < group_length {
        if pos + 8 > bytes.len() {
            return damaged("the file meta group is cut short".into());
        }
        let tag = Tag(le16(pos), le16(pos + 2));
        let vr = VR::from_binary([bytes[pos + 4], bytes[pos + 5]]).unwrap_or(VR::UN);
        let (length, header) = if tag.group() == 0xFFFE {
            // Item and delimiter tags have no VR: the length follows the tag.
            (le32(pos + 4), 8)
        } else if has_long_length(vr) {
            if pos + 12 > bytes.len() {
                return damaged("the file meta group is cut short".into());
            }
            (le32(pos + 8), 12)
        } else {
            (le16(pos + 6) as u32, 8)
        };
        if length == UNDEFINED || length as usize > bytes.len() - (pos + header) {
            return damaged(format!("meta element {tag} claims {length} bytes"));
        }
        if tag == TRANSFER_SYNTAX {
            transfer_syntax = String::from_utf8_lossy(&bytes[pos + header..pos + header + length as usize]).into_owned();
        }
        pos += header + length as usize;
        consumed += header + length as usize;
    }
    let encoding = match transfer_syntax.trim_end_matches(['\0', ' ']) {
        "1.2.840.10008.1.2" => Encoding::ImplicitLittle,
        "1.2.840.10008.1.2.2" => Encoding::ExplicitBig,
        _ => Encoding::ExplicitLittle,
    };
    Ok((pos, encoding))
}

/// Value representations whose explicit header has two reserved bytes and a 32-bit length.
fn has_long_length(vr: VR) -> bool {
    matches!(
        vr,
        VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::SQ | VR::SV | VR::UC | VR::UN | VR::UR | VR::UT | VR::UV
    )
}

/// Bytes per value of the binary number VRs.
fn number_size(vr: VR) -> Option<usize> {
    match vr {
        VR::SS | VR::US | VR::OW => Some(2),
        VR::SL | VR::UL | VR::FL | VR::OL | VR::OF | VR::AT => Some(4),
        VR::FD | VR::SV | VR::UV | VR::OD | VR::OV => Some(8),
        _ => None,
    }
}

/// The VR the parser gives an implicit-VR element: OW for pixel and overlay data, else the
/// dictionary's (relaxed: US for "US or SS", OW for "OB or OW"), else UN.
fn implicit_vr(tag: Tag) -> VR {
    if tag == PIXEL_DATA || (tag.group() >> 8 == 0x60 && tag.element() == 0x3000) {
        return VR::OW;
    }
    StandardDataDictionary.by_tag(tag).map_or(VR::UN, |entry| entry.vr().relaxed())
}
