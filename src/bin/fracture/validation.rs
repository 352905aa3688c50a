//! A model folder's validation images: the `valid` rows of the split.csv its run wrote, decoded
//! from the data folder as the model's card says its inputs are prepared.

use std::path::Path;

use bone_fracture::data::{decode_xray_framed, parse_split_csv, Framing, Part, SplitRow, Xray, SPLIT_FILE};

/// The run's split.csv text, its validation images and their labels (class indices).
pub struct Validation {
    pub split_text: String,
    pub rows: Vec<SplitRow>,
    pub xrays: Vec<Xray>,
    pub labels: Vec<usize>,
}

impl Validation {
    /// Reads `model_dir`'s split.csv and decodes its validation images from `data`.
    pub fn read(model_dir: &Path, data: &Path, framing: Framing) -> Result<Self, String> {
        let path = model_dir.join(SPLIT_FILE);
        let split_text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let rows = parse_split_csv(&split_text).map_err(|e| format!("{}: {e}", path.display()))?;
        let valid: Vec<&SplitRow> = rows.iter().filter(|r| r.part == Part::Valid).collect();
        if valid.is_empty() {
            return Err(format!("{} holds no validation images", path.display()));
        }
        let xrays = valid
            .iter()
            .map(|row| {
                let path = data.join(row.class.folder_name()).join(&row.file);
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                decode_xray_framed(&bytes, framing).map_err(|e| format!("{}: {e}", path.display()))
            })
            .collect::<Result<Vec<Xray>, String>>()?;
        let labels = valid.iter().map(|r| r.class.index()).collect();
        Ok(Validation { split_text, rows, xrays, labels })
    }

    /// The images as the predictors take them.
    pub fn refs(&self) -> Vec<&Xray> {
        self.xrays.iter().collect()
    }

    /// Images the run trained on.
    pub fn train_images(&self) -> usize {
        self.rows.len() - self.xrays.len()
    }
}
