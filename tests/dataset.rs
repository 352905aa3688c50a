//! Reading class folders: labels from folder names, groups from the manifest, bad files
//! skipped and named, unknown or empty class folders refused with the expected names.

mod common;

use std::fs;

use bone_fracture::data::{load_folder, split, Framing, LoadError, SplitKind};
use bone_fracture::FractureClass;

fn write(dir: &std::path::Path, class: &str, file: &str, bytes: &[u8]) {
    fs::create_dir_all(dir.join(class)).unwrap();
    fs::write(dir.join(class).join(file), bytes).unwrap();
}

#[test]
fn class_folders_and_manifest_become_labelled_groups() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Spiral Fracture", "a.png", &common::synthetic_png(9, 40, 30));
    write(dir.path(), "Spiral Fracture", "b.png", &common::synthetic_png(9, 30, 40));
    write(dir.path(), "Avulsion fracture", "c.png", &common::synthetic_png(0, 50, 50));
    write(dir.path(), "Avulsion fracture", "broken.jpg", b"\xff\xd8\xff\xe0 truncated");
    fs::write(
        dir.path().join("manifest.csv"),
        "class,file,official_split,group,md5,width,height\n\
         Spiral Fracture,a.png,Train,7,x,40,30\nSpiral Fracture,b.png,Test,7,y,30,40\n",
    )
    .unwrap();
    let dataset = load_folder(dir.path(), Framing::Whole).unwrap();
    assert_eq!(dataset.items.len(), 3);
    assert_eq!(dataset.skipped.len(), 1);
    assert!(dataset.skipped[0].0.ends_with("broken.jpg"));
    let counts = dataset.class_counts();
    assert_eq!((counts[FractureClass::Avulsion.index()], counts[FractureClass::Spiral.index()]), (1, 2));
    let spiral: Vec<_> = dataset.items.iter().filter(|i| i.class == FractureClass::Spiral).collect();
    assert!(spiral.iter().all(|i| i.group == "7"), "manifest groups are used");
    let avulsion = dataset.items.iter().find(|i| i.class == FractureClass::Avulsion).unwrap();
    assert_eq!(avulsion.group, "Avulsion fracture/c.png", "an image missing from the manifest is its own group");
    // The two Spiral images share a group, so a group split keeps them together.
    let classes: Vec<_> = dataset.items.iter().map(|i| i.class).collect();
    let groups: Vec<_> = dataset.items.iter().map(|i| i.group.clone()).collect();
    for seed in 0..10 {
        let s = split(SplitKind::Group, &classes, &groups, 0.5, seed);
        let spiral_sides: Vec<bool> =
            (0..3).filter(|&i| classes[i] == FractureClass::Spiral).map(|i| s.valid.contains(&i)).collect();
        assert!(spiral_sides.windows(2).all(|w| w[0] == w[1]), "seed {seed}");
    }
}

#[test]
fn unknown_and_empty_class_folders_name_the_expected_classes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Stress fracture", "a.png", &common::synthetic_png(1, 20, 20));
    let err = load_folder(dir.path(), Framing::Whole).unwrap_err();
    assert!(matches!(err, LoadError::UnknownClass { .. }), "{err}");
    assert!(err.to_string().contains("\"Hairline Fracture\""), "{err}");

    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("Oblique fracture")).unwrap();
    let err = load_folder(dir.path(), Framing::Whole).unwrap_err();
    assert!(matches!(err, LoadError::EmptyClass { .. }), "{err}");
    assert!(err.to_string().contains("\"Oblique fracture\""), "{err}");

    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Oblique fracture", "only-bad.png", b"not a png");
    let err = load_folder(dir.path(), Framing::Whole).unwrap_err();
    assert!(matches!(err, LoadError::EmptyClass { .. }), "a class whose files all fail to decode: {err}");
}
