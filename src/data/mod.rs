//! Images in, tensors out: decoding and preprocessing, class folders, splits and batches.

pub mod augment;
#[cfg(feature = "burn")]
pub mod batch;
pub mod decode;
pub mod dicom;
mod dicom_lengths;
pub mod folder;
pub mod guard;
pub mod split;
pub mod split_csv;
pub mod trim;

pub use augment::{augment, test_time_views};
#[cfg(feature = "burn")]
pub use batch::images_to_tensor;
pub use decode::{decode_xray, decode_xray_framed, DecodeError, Xray, INPUT_SIZE};
pub use folder::{list_class_files, load_folder, manifest_groups, Dataset, LabelledXray, LoadError};
pub use guard::unlike_an_xray;
pub use split::{group_folds, split, Split, SplitKind};
pub use split_csv::{parse_split_csv, write_split_csv, Part, SplitRow, SPLIT_FILE};
pub use trim::Framing;
