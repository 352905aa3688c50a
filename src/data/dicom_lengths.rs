//! A walk over a DICOM file's element headers that refuses any value longer than the bytes
//! left in the file, before dicom-rs parses it.
//!
//! The parser allocates (and zero-fills) each value at the length its header declares, so a
//! few bytes claiming a 3 GB value would grow the page's memory by 3 GB before failing; in
//! WebAssembly that memory is never given back. After this check every allocation the parser
//! makes for a value is bounded by the size of the file.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_core::{Tag, VR};
use dicom_dictionary_std::StandardDataDictionary;

use crate::data::decode::DecodeError;

const UNDEFINED: u32 = u32::MAX;
const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);
const TRANSFER_SYNTAX: Tag = Tag(0x0002, 0x0010);

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    ExplicitLittle,
    ImplicitLittle,
    ExplicitBig,
}

/// `after_magic`: the bytes that follow `DICM` (the file meta group, then the data set).
pub fn check_declared_lengths(after_magic: &[u8]) -> Result<(), DecodeError> {
    let mut pos = 0usize;
    // The meta group is always explicit VR little endian; the data set is as it names.
    let mut encoding = Encoding::ExplicitLittle;
    let mut in_meta = true;
    let mut transfer_syntax = String::new();
    let mut in_pixel_sequence = false;
    while pos + 8 <= after_magic.len() {
        let read16 = |at: usize, enc: Encoding| {
            let b = [after_magic[at], after_magic[at + 1]];
            if enc == Encoding::ExplicitBig { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) }
        };
        if in_meta && read16(pos, Encoding::ExplicitLittle) != 0x0002 {
            in_meta = false;
            encoding = match transfer_syntax.trim_end_matches(['\0', ' ']) {
                "1.2.840.10008.1.2" => Encoding::ImplicitLittle,
                "1.2.840.10008.1.2.2" => Encoding::ExplicitBig,
                _ => Encoding::ExplicitLittle,
            };
        }
        let read32 = |at: usize| {
            let b = [after_magic[at], after_magic[at + 1], after_magic[at + 2], after_magic[at + 3]];
            if encoding == Encoding::ExplicitBig { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
        };
        let tag = Tag(read16(pos, encoding), read16(pos + 2, encoding));
        let rest = |from: usize| after_magic.len().saturating_sub(from);
        let too_long = |length: u32, left: usize| DecodeError::Dicom(format!(
            "element {tag} claims {length} bytes but only {left} are left in the file; it is damaged or cut short"
        ));

        // Items and delimiters: the same 8-byte header in every encoding.
        if tag.group() == 0xFFFE {
            let length = read32(pos + 4);
            pos += 8;
            match tag.element() {
                0xE0DD => in_pixel_sequence = false,
                0xE000 if length != UNDEFINED => {
                    if length as usize > rest(pos) {
                        return Err(too_long(length, rest(pos)));
                    }
                    // A pixel fragment is bytes; any other item holds elements: walk into it.
                    if in_pixel_sequence {
                        pos += length as usize;
                    }
                }
                _ => {}
            }
            continue;
        }

        let (vr, length, header) = match encoding {
            Encoding::ImplicitLittle => (implicit_vr(tag), read32(pos + 4), 8),
            Encoding::ExplicitLittle | Encoding::ExplicitBig => {
                // As the parser does: an unknown VR is read as UN.
                let vr = VR::from_binary([after_magic[pos + 4], after_magic[pos + 5]]).unwrap_or(VR::UN);
                let vr = Some(vr);
                if vr.is_some_and(has_long_length) {
                    if pos + 12 > after_magic.len() {
                        break;
                    }
                    (vr, read32(pos + 8), 12)
                } else {
                    (vr, read16(pos + 6, encoding) as u32, 8)
                }
            }
        };
        if length == UNDEFINED {
            if vr == Some(VR::UN) {
                // Its content is in implicit VR whatever the file's encoding; leave it to the parser.
                return Ok(());
            }
            // A sequence or encapsulated pixel data: its items follow.
            in_pixel_sequence = tag == PIXEL_DATA;
            pos += header;
            continue;
        }
        if length as usize > rest(pos + header) {
            return Err(too_long(length, rest(pos + header)));
        }
        // The parser reads whole numbers only: a remainder would shift every later header.
        if let Some(size) = vr.and_then(number_size) {
            if length as usize % size != 0 {
                return Err(DecodeError::Dicom(format!(
                    "element {tag} holds {length} bytes of {}-byte numbers; the file is damaged",
                    size
                )));
            }
        }
        pos += header;
        if vr == Some(VR::SQ) {
            continue; // walk into its items
        }
        if in_meta && tag == TRANSFER_SYNTAX {
            transfer_syntax = String::from_utf8_lossy(&after_magic[pos..pos + length as usize]).into_owned();
        }
        pos += length as usize;
    }
    Ok(())
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

/// In implicit VR the dictionary says which elements are sequences.
fn implicit_vr(tag: Tag) -> Option<VR> {
    match StandardDataDictionary.by_tag(tag).map(|entry| entry.vr()) {
        Some(VirtualVr::Exact(vr)) => Some(vr),
        _ => None,
    }
}
