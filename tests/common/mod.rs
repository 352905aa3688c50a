//! Generated fixtures shared by the integration tests.
#![allow(dead_code)]

pub mod dicom;
pub mod odd;

use bone_fracture::classes::FractureClass;
use bone_fracture::data::{decode_xray, LabelledXray, Xray};
use bone_fracture::model::Classifier;
use burn::store::ModuleSnapshot;
use image::{ImageFormat, Rgb, RgbImage};

/// A synthetic "X-ray" whose pattern depends on `label`: stripes of a label-dependent period
/// and angle on a dark background, so a network can tell the classes apart.
pub fn synthetic_png(label: usize, width: u32, height: u32) -> Vec<u8> {
    let period = 6.0 + 3.0 * label as f32;
    let image = RgbImage::from_fn(width, height, |x, y| {
        let t = if label.is_multiple_of(2) { x as f32 + 0.3 * y as f32 } else { y as f32 - 0.5 * x as f32 };
        let v = if (t / period).rem_euclid(2.0) < 1.0 { 200 } else { 30 };
        Rgb([v, v, v])
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Png).expect("encoding a fixture");
    bytes.into_inner()
}

/// Ten classes × `per_class` synthetic X-rays, in class folders.
pub fn synthetic_folder(per_class: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    for class in bone_fracture::classes::FractureClass::ALL {
        let class_dir = dir.path().join(class.folder_name());
        std::fs::create_dir_all(&class_dir).expect("a class folder");
        for i in 0..per_class {
            let png = synthetic_png(class.index(), 60 + 7 * i as u32, 50);
            std::fs::write(class_dir.join(format!("{i}.png")), png).expect("a fixture");
        }
    }
    dir
}

/// The preprocessed synthetic image of `label`.
pub fn synthetic_xray(label: usize) -> Xray {
    decode_xray(&synthetic_png(label, 96, 80)).expect("fixtures decode")
}

/// One labelled synthetic X-ray per label, each in its own near-duplicate group.
pub fn labelled_xrays(labels: &[usize]) -> Vec<LabelledXray> {
    labels
        .iter()
        .map(|&label| LabelledXray {
            xray: synthetic_xray(label),
            class: FractureClass::from_index(label).expect("a class"),
            group: format!("g{label}"),
            file: format!("{label}.png"),
        })
        .collect()
}

/// Checks that the committed copies in `dir` (relative to the crate) are the generators'
/// output; with `UPDATE_FIXTURES=1` it writes them first.
pub fn check_fixtures<N: AsRef<std::path::Path>>(dir: &str, fixtures: Vec<(N, Vec<u8>)>) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    for (name, bytes) in fixtures {
        let path = dir.join(name);
        if std::env::var_os("UPDATE_FIXTURES").is_some() {
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("creating the fixtures folder");
            std::fs::write(&path, &bytes).expect("writing a fixture");
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_FIXTURES=1 writes it)", path.display()));
        assert!(committed == bytes, "{} differs from its generator; UPDATE_FIXTURES=1 rewrites it", path.display());
    }
}

/// Each named weight of a model, as its raw bytes.
pub fn weights_by_name(model: &Classifier) -> std::collections::BTreeMap<String, Vec<u8>> {
    model
        .collect(None, None, false)
        .into_iter()
        .map(|tensor| {
            let (name, _dtype, _shape, _id, bytes) = tensor.into_parts().expect("reading a weight");
            (name, bytes.to_vec())
        })
        .collect()
}
