//! A folder of class folders (the layout Keras' `image_dataset_from_directory` reads) → a
//! labelled, decoded dataset. A `manifest.csv` beside the class folders, when present, gives
//! each image its near-duplicate `group`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::classes::FractureClass;
use crate::data::decode::{decode_xray_framed, Xray};
use crate::data::trim::Framing;

/// One decoded, labelled image.
#[derive(Debug, Clone)]
pub struct LabelledXray {
    pub xray: Xray,
    pub class: FractureClass,
    /// Near-duplicate group: images of one group always land on the same side of a split.
    pub group: String,
    /// File name inside its class folder.
    pub file: String,
}

/// A decoded dataset, and the files that could not be used.
#[derive(Debug, Default)]
pub struct Dataset {
    pub items: Vec<LabelledXray>,
    /// Files skipped because they could not be decoded, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Why a dataset folder could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a known class folder; expected folders named {expected}")]
    UnknownClass { path: PathBuf, expected: String },
    #[error("class folder {path} holds no readable images; expected class folders are {expected}")]
    EmptyClass { path: PathBuf, expected: String },
    #[error("{path} has no class folders; expected folders named {expected}")]
    NoClasses { path: PathBuf, expected: String },
    #[error("{path}: {message}")]
    Manifest { path: PathBuf, message: String },
}

impl Dataset {
    /// Number of images of each class, in label order.
    pub fn class_counts(&self) -> [usize; crate::NUM_CLASSES] {
        let mut counts = [0; crate::NUM_CLASSES];
        for item in &self.items {
            counts[item.class.index()] += 1;
        }
        counts
    }
}

/// Reads and decodes every image under `dir`'s class folders, once, framed as `framing`.
///
/// Unknown or empty class folders are errors naming the expected classes; files that do not
/// decode are skipped and listed in [`Dataset::skipped`] (and logged as warnings).
pub fn load_folder(dir: &Path, framing: Framing) -> Result<Dataset, LoadError> {
    let groups = read_manifest(&dir.join("manifest.csv"))?;
    let files = list_class_files(dir)?;
    let decoded = decode_files(&files, framing);
    let mut dataset = Dataset::default();
    for ((class, path, file), result) in files.into_iter().zip(decoded) {
        match result {
            Ok(xray) => {
                let group =
                    groups.get(&(class, file.clone())).cloned().unwrap_or_else(|| format!("{}/{}", class.folder_name(), file));
                dataset.items.push(LabelledXray { xray, class, group, file });
            }
            Err(reason) => {
                log::warn!("skipped {}: {reason}", path.display());
                dataset.skipped.push((path, reason));
            }
        }
    }
    for (class, count) in FractureClass::ALL.iter().zip(dataset.class_counts()) {
        if count == 0 && dir.join(class.folder_name()).is_dir() {
            return Err(LoadError::EmptyClass {
                path: dir.join(class.folder_name()),
                expected: FractureClass::expected_folder_names(),
            });
        }
    }
    Ok(dataset)
}

/// The image files of a folder of class folders, sorted by class folder then file name, without
/// decoding them: `(class, path, file name)`. Errors as [`load_folder`].
pub fn list_class_files(dir: &Path) -> Result<Vec<(FractureClass, PathBuf, String)>, LoadError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LoadError::Io { path, source }
    };
    let mut files = Vec::new();
    let mut class_dirs: Vec<_> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_dir() && !is_hidden(&entry.file_name().to_string_lossy()))
        .collect();
    class_dirs.sort_by_key(|entry| entry.file_name());
    if class_dirs.is_empty() {
        return Err(LoadError::NoClasses { path: dir.into(), expected: FractureClass::expected_folder_names() });
    }
    for entry in class_dirs {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let class = FractureClass::from_folder_name(&name)
            .ok_or_else(|| LoadError::UnknownClass { path: path.clone(), expected: FractureClass::expected_folder_names() })?;
        let mut names: Vec<_> = std::fs::read_dir(&path)
            .map_err(io(&path))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !is_hidden(n))
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(LoadError::EmptyClass { path, expected: FractureClass::expected_folder_names() });
        }
        files.extend(names.into_iter().map(|file| (class, path.join(&file), file)));
    }
    Ok(files)
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.')
}

/// Decodes files on all cores; the result is in the order of `files`.
fn decode_files(files: &[(FractureClass, PathBuf, String)], framing: Framing) -> Vec<Result<Xray, String>> {
    let decode = |path: &PathBuf| -> Result<Xray, String> {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        decode_xray_framed(&bytes, framing).map_err(|e| e.to_string())
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
    let chunk = files.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|(_, p, _)| decode(p)).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("a decoding thread panicked")).collect()
    })
}

/// `(class, file) → group` from a manifest file. A missing manifest is an empty map: every
/// image is then its own group.
fn read_manifest(path: &Path) -> Result<HashMap<(FractureClass, String), String>, LoadError> {
    if !path.is_file() {
        return Ok(HashMap::new());
    }
    let err = |message: String| LoadError::Manifest { path: path.into(), message };
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    manifest_groups(&bytes).map_err(err)
}

/// `(class, file) → group` from the text of a manifest with at least the columns `class`,
/// `file` and `group` (the dataset's `manifest.csv`, or one a person writes). Classes are
/// matched like folder names.
pub fn manifest_groups(csv_text: &[u8]) -> Result<HashMap<(FractureClass, String), String>, String> {
    let mut reader = csv::Reader::from_reader(csv_text);
    let headers = reader.headers().map_err(|e| e.to_string())?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name).ok_or_else(|| format!("no `{name}` column"));
    let (class_col, file_col, group_col) = (column("class")?, column("file")?, column("group")?);
    let mut groups = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| e.to_string())?;
        let field = |i: usize| record.get(i).unwrap_or("").to_string();
        // Rows for classes this project does not know are not an error here: the class
        // folders, not the manifest, decide what is loaded.
        if let Some(class) = FractureClass::from_folder_name(&field(class_col)) {
            let group = field(group_col);
            if group.is_empty() {
                return Err(format!("row {} has an empty group", line + 2));
            }
            groups.insert((class, field(file_col)), group);
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_rows_give_groups_by_class_and_file() {
        let groups = manifest_groups(b"class,file,group\nspiral,a.jpg,7\nSpiral Fracture,b.jpg,7\nstress,c.jpg,1\n").unwrap();
        assert_eq!(groups.get(&(FractureClass::Spiral, "a.jpg".into())).map(String::as_str), Some("7"));
        assert_eq!(groups.get(&(FractureClass::Spiral, "b.jpg".into())).map(String::as_str), Some("7"));
        assert_eq!(groups.len(), 2, "unknown classes are left out");
        assert_eq!(manifest_groups(b"class,file\nspiral,a.jpg\n").unwrap_err(), "no `group` column");
    }
}
