//! `gallery.json` beside a shipped model: thumbnails of a few of its training X-rays and of every
//! validation X-ray of its split, each validation one with the model's probabilities, for the
//! page's analysis views (the reference notebook's image grids). `fracture gallery` writes it.

use serde::{Deserialize, Serialize};

use crate::classes::FractureClass;
use crate::train::Evaluation;
use crate::NUM_CLASSES;

/// File name of the gallery inside a model folder.
pub const GALLERY_FILE: &str = "gallery.json";

/// What the analysis views show of a model's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gallery {
    /// A few training images per class, from distinct near-duplicate groups.
    pub training: Vec<Thumbnail>,
    /// Every validation image of the model's split, in `split.csv` order.
    pub validation: Vec<Predicted>,
}

/// One image of the dataset as a small JPEG.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thumbnail {
    /// The labelled class (the image's class folder).
    pub class: FractureClass,
    /// File name inside its class folder, as in `split.csv`.
    pub file: String,
    /// The thumbnail's path relative to the page (`gallery/<hash>.jpg`).
    pub thumbnail: String,
}

/// A validation image and what the model says of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Predicted {
    #[serde(flatten)]
    pub image: Thumbnail,
    /// Temperature-scaled class probabilities, as the page shows them, in label order.
    pub probabilities: [f32; NUM_CLASSES],
}

impl Predicted {
    /// The model's first choice.
    pub fn predicted(&self) -> FractureClass {
        let first = crate::train::ranked_classes(&self.probabilities)[0];
        FractureClass::from_index(first).expect("a class index")
    }
}

impl Gallery {
    /// The validation images' metrics, computed from their stored probabilities: its confusion
    /// matrix is the one the model card shows when the gallery belongs to the card's weights.
    pub fn validation_metrics(&self) -> Evaluation {
        let rows: Vec<[f32; NUM_CLASSES]> = self.validation.iter().map(|p| p.probabilities).collect();
        let labels: Vec<usize> = self.validation.iter().map(|p| p.image.class.index()).collect();
        Evaluation::from_probabilities(&rows, &labels)
    }
}
