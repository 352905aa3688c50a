//! DICOM files built from greyscale images with dicom-object, as X-ray modalities write them:
//! 8- or 16-bit samples, `MONOCHROME2` or `MONOCHROME1` (inverted), with or without a rescale
//! and a VOI window. The native tests and the page's end-to-end fixtures use the same bytes.
#![allow(dead_code)]

use dicom_core::value::PixelFragmentSequence;
use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::InMemDicomObject;
use image::GrayImage;

/// How the grey levels 0..=255 of the source are stored.
#[derive(Debug, Clone, Copy)]
pub enum Storage {
    /// 8 bits, `MONOCHROME2`, stored as is, no window: the reader stretches min..max.
    Mono2Bits8,
    /// 16 bits (12 stored), `MONOCHROME1`: grey `v` is stored as `1000 + 8 * (255 - v)`, with a
    /// window (centre 2020.5, width 2041) that maps 1000..=3040 back onto 0..=255.
    Mono1Bits16Windowed,
    /// 16 bits (12 stored), `MONOCHROME2`, rescale intercept -1024: grey `v` is stored as
    /// `2024 + 8 * v`, which rescales to `1000 + 8 * v`, then the same window as above.
    Mono2Bits16Rescaled,
}

/// A DICOM file (preamble, meta group, explicit VR little endian) holding `frames` of the image.
pub fn dicom_from_grey(grey: &GrayImage, storage: Storage, frames: &[&GrayImage]) -> Vec<u8> {
    let (width, height) = grey.dimensions();
    let all: Vec<&GrayImage> = std::iter::once(grey).chain(frames.iter().copied()).collect();
    let mut object = base_object(width, height, all.len());
    let stored16 = |v: u8, inverted: bool, offset: u16| {
        let level = if inverted { 255 - v } else { v } as u16;
        (offset + 8 * level).to_le_bytes()
    };
    let (photometric, bits, pixel_bytes): (&str, u16, Vec<u8>) = match storage {
        Storage::Mono2Bits8 => ("MONOCHROME2", 8, all.iter().flat_map(|f| f.as_raw().clone()).collect()),
        Storage::Mono1Bits16Windowed => (
            "MONOCHROME1",
            16,
            all.iter().flat_map(|f| f.as_raw().iter().flat_map(|&v| stored16(v, true, 1000)).collect::<Vec<_>>()).collect(),
        ),
        Storage::Mono2Bits16Rescaled => (
            "MONOCHROME2",
            16,
            all.iter().flat_map(|f| f.as_raw().iter().flat_map(|&v| stored16(v, false, 2024)).collect::<Vec<_>>()).collect(),
        ),
    };
    put_samples(&mut object, photometric, bits, if bits == 8 { 8 } else { 12 });
    if bits == 16 {
        object.put(DataElement::new(tags::WINDOW_CENTER, VR::DS, "2020.5"));
        object.put(DataElement::new(tags::WINDOW_WIDTH, VR::DS, "2041"));
    }
    if matches!(storage, Storage::Mono2Bits16Rescaled) {
        object.put(DataElement::new(tags::RESCALE_INTERCEPT, VR::DS, "-1024"));
        object.put(DataElement::new(tags::RESCALE_SLOPE, VR::DS, "1"));
    }
    let vr = if bits == 8 { VR::OB } else { VR::OW };
    object.put(DataElement::new(tags::PIXEL_DATA, vr, PrimitiveValue::from(pixel_bytes)));
    write(object, uids::EXPLICIT_VR_LITTLE_ENDIAN)
}

/// 16-bit `MONOCHROME2` with raw stored values and an optional window (centre, width): for
/// checking the window and the min-max stretch on exact numbers.
pub fn dicom_raw16(width: u32, height: u32, values: &[u16], window: Option<(&str, &str)>) -> Vec<u8> {
    let mut object = base_object(width, height, 1);
    put_samples(&mut object, "MONOCHROME2", 16, 16);
    if let Some((centre, width)) = window {
        object.put(DataElement::new(tags::WINDOW_CENTER, VR::DS, centre));
        object.put(DataElement::new(tags::WINDOW_WIDTH, VR::DS, width));
    }
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    object.put(DataElement::new(tags::PIXEL_DATA, VR::OW, PrimitiveValue::from(bytes)));
    write(object, uids::EXPLICIT_VR_LITTLE_ENDIAN)
}

/// A JPEG 2000 (lossless) DICOM file: the meta group names the compression, the pixel data is
/// one encapsulated fragment (its content never matters: the reader refuses before decoding).
pub fn dicom_jpeg2000(width: u32, height: u32) -> Vec<u8> {
    let mut object = base_object(width, height, 1);
    put_samples(&mut object, "MONOCHROME2", 8, 8);
    let fragment = b"\xff\x4f\xff\x51 not a real codestream".to_vec();
    object.put(DataElement::new(tags::PIXEL_DATA, VR::OB, PixelFragmentSequence::new(vec![0u32], vec![fragment])));
    write(object, uids::JPEG2000_LOSSLESS)
}

/// The image as a baseline JPEG inside DICOM (transfer syntax 1.2.840.10008.1.2.4.50, one
/// fragment), as many archives store radiographs.
pub fn dicom_jpeg_baseline(grey: &GrayImage) -> Vec<u8> {
    let (width, height) = grey.dimensions();
    let mut object = base_object(width, height, 1);
    put_samples(&mut object, "MONOCHROME2", 8, 8);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 95).encode_image(grey).expect("encoding a JPEG");
    if jpeg.len() % 2 == 1 {
        jpeg.push(0); // fragments have even lengths
    }
    object.put(DataElement::new(tags::PIXEL_DATA, VR::OB, PixelFragmentSequence::new(vec![0u32], vec![jpeg])));
    write(object, uids::JPEG_BASELINE8_BIT)
}

/// Small inputs for the fuzz targets (`fuzz/seeds/`): every storage and compression above at
/// 16x16, as whole files for `decode_image` and as what follows `DICM` for `decode_dicom`.
pub fn fuzz_seeds() -> Vec<(String, Vec<u8>)> {
    let grey = GrayImage::from_fn(16, 16, |x, y| image::Luma([(x * 16 + y) as u8]));
    let files = [
        ("mono2-8bit", dicom_from_grey(&grey, Storage::Mono2Bits8, &[])),
        ("mono1-16bit-window", dicom_from_grey(&grey, Storage::Mono1Bits16Windowed, &[&grey])),
        ("mono2-16bit-rescaled", dicom_from_grey(&grey, Storage::Mono2Bits16Rescaled, &[])),
        ("jpeg-baseline", dicom_jpeg_baseline(&grey)),
        ("jpeg2000", dicom_jpeg2000(16, 16)),
    ];
    files
        .into_iter()
        .flat_map(|(name, bytes)| {
            let body = bytes[132..].to_vec();
            [(format!("decode_image/{name}.dcm"), bytes), (format!("decode_dicom/{name}.body"), body)]
        })
        .collect()
}

/// The attributes every image here shares: a computed radiograph, `rows x columns`, one sample.
fn base_object(width: u32, height: u32, frames: usize) -> InMemDicomObject {
    let mut object = InMemDicomObject::new_empty();
    object.put(DataElement::new(tags::SOP_CLASS_UID, VR::UI, uids::COMPUTED_RADIOGRAPHY_IMAGE_STORAGE));
    object.put(DataElement::new(tags::SOP_INSTANCE_UID, VR::UI, "2.25.1234567890123456789"));
    object.put(DataElement::new(tags::MODALITY, VR::CS, "CR"));
    object.put(DataElement::new(tags::ROWS, VR::US, PrimitiveValue::from(height as u16)));
    object.put(DataElement::new(tags::COLUMNS, VR::US, PrimitiveValue::from(width as u16)));
    object.put(DataElement::new(tags::SAMPLES_PER_PIXEL, VR::US, PrimitiveValue::from(1u16)));
    object.put(DataElement::new(tags::PIXEL_REPRESENTATION, VR::US, PrimitiveValue::from(0u16)));
    if frames > 1 {
        object.put(DataElement::new(tags::NUMBER_OF_FRAMES, VR::IS, frames.to_string()));
    }
    object
}

/// Photometric interpretation, and how the samples are stored (high bit = stored − 1).
fn put_samples(object: &mut InMemDicomObject, photometric: &str, allocated: u16, stored: u16) {
    object.put(DataElement::new(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, photometric));
    object.put(DataElement::new(tags::BITS_ALLOCATED, VR::US, PrimitiveValue::from(allocated)));
    object.put(DataElement::new(tags::BITS_STORED, VR::US, PrimitiveValue::from(stored)));
    object.put(DataElement::new(tags::HIGH_BIT, VR::US, PrimitiveValue::from(stored - 1)));
}

fn write(object: InMemDicomObject, transfer_syntax: &str) -> Vec<u8> {
    let file =
        object.with_meta(FileMetaTableBuilder::new().transfer_syntax(transfer_syntax)).expect("a complete file meta group");
    let mut bytes = Vec::new();
    file.write_all(&mut bytes).expect("writing DICOM to memory");
    bytes
}

/// A real X-ray from the shipped samples (CC BY 4.0, see `public/samples/SOURCES.txt`), in grey,
/// at half size, stretched to use all of 0..=255 so that every storage above reads back to the
/// same grey levels.
pub fn xray_grey() -> GrayImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("public/samples/fracture-dislocation.jpg");
    let source = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).to_luma8();
    let half = image::imageops::resize(&source, source.width() / 2, source.height() / 2, image::imageops::FilterType::Triangle);
    let (low, high) = half.pixels().fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
    let span = (high - low).max(1) as f32;
    GrayImage::from_fn(half.width(), half.height(), |x, y| {
        image::Luma([((half.get_pixel(x, y)[0] - low) as f32 * 255.0 / span).round() as u8])
    })
}

/// The page's end-to-end DICOM fixtures: file name → bytes. `xray-grey.png` is the image all
/// the readable ones hold.
pub fn page_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let grey = xray_grey();
    let mut png = std::io::Cursor::new(Vec::new());
    grey.write_to(&mut png, image::ImageFormat::Png).expect("encoding the grey X-ray");
    vec![
        ("xray-grey.png", png.into_inner()),
        ("xray-8bit-mono2.dcm", dicom_from_grey(&grey, Storage::Mono2Bits8, &[])),
        ("xray-16bit-mono1-window.dcm", dicom_from_grey(&grey, Storage::Mono1Bits16Windowed, &[])),
        ("xray-16bit-mono2-rescaled.dcm", dicom_from_grey(&grey, Storage::Mono2Bits16Rescaled, &[])),
        ("jpeg2000.dcm", dicom_jpeg2000(64, 64)),
    ]
}
