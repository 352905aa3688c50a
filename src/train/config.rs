//! Everything needed to reproduce a training run; saved in `model.json` next to the weights.

use burn::optim::AdamConfig;
use serde::{Deserialize, Serialize};

use crate::data::SplitKind;
use crate::model::Architecture;

/// A training run's settings. Defaults are the reference notebook's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingConfig {
    pub architecture: Architecture,
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Seeds the split (unless drawn apart), the batch order, the augmentation and the cached
    /// views — and the device's generator unless `init_seed` is set.
    pub seed: u64,
    /// Seeds the device's generator apart from `seed`: a new layer's first weights (Burn draws
    /// them when first read, as training starts) and the dropout masks. Runs that share it and
    /// differ in `seed` start from one network on other batches and views, so their weights
    /// can be averaged into a soup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_seed: Option<u64>,
    pub split: SplitKind,
    /// Share of the images held out for validation.
    pub valid_fraction: f64,
    /// Adam's betas and epsilon, Keras' defaults (0.9, 0.999, 1e-7).
    pub adam_beta_1: f32,
    pub adam_beta_2: f32,
    pub adam_epsilon: f32,
    /// Which weights the optimiser may change.
    #[serde(default)]
    pub trainable: Trainable,
    /// Random flips, small rotations and zooms, and brightness/contrast changes of the
    /// training images (see [`crate::data::augment`]).
    #[serde(default)]
    pub augment: bool,
    /// Label smoothing of the cross-entropy (0: none): the target puts this much probability
    /// mass evenly on all classes.
    #[serde(default)]
    pub label_smoothing: f32,
    /// Weights each class's loss by how rare it is in the training part, so that every class
    /// counts as much as the others (`n / (classes × count)`).
    #[serde(default)]
    pub class_weighted: bool,
    /// How the learning rate changes over the run.
    #[serde(default)]
    pub schedule: Schedule,
    /// Mixup's α (0: none): each training batch is blended with a shuffled copy of itself,
    /// `λ·x + (1−λ)·x'` with λ ~ Beta(α, α), and the loss is the same blend of the two labels'
    /// losses ([`super::mixup`]). With a cached prefix it mixes that prefix's output.
    #[serde(default)]
    pub mixup: f32,
    /// Decay of an exponential moving average of the weights over the steps (0: none); each
    /// epoch is then validated, and kept, as that average ([`super::weight_average`]).
    #[serde(default)]
    pub weight_average: f64,
    /// Which epoch's model the run keeps.
    #[serde(default)]
    pub keep: Keep,
    /// The trunk — every layer but the head that head-only fine-tuning trains (EfficientNet's
    /// 10-class layer, the seed CNN's two dense layers) — learns at `learning_rate` × this;
    /// below 1, pretrained layers move more slowly than the new head (1: one rate for all).
    #[serde(default = "one")]
    pub trunk_lr_factor: f64,
    /// Stochastic depth (0: none): EfficientNet block i's residual branch is dropped for whole
    /// training samples with probability `drop_path × i / 16`, as EfficientNet was trained
    /// ([`crate::model::EfficientNetLite::with_drop_path`]).
    #[serde(default)]
    pub drop_path: f64,
}

fn one() -> f64 {
    1.0
}

/// The epoch a run keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Keep {
    /// The epoch with the lowest validation loss (the notebook's `ModelCheckpoint`).
    #[default]
    BestValidation,
    /// The last epoch: the run length is fixed in advance, and the validation images only
    /// report and calibrate (a small validation set picks an epoch partly by chance).
    Last,
}

impl std::str::FromStr for Keep {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "best" => Ok(Keep::BestValidation),
            "last" => Ok(Keep::Last),
            other => Err(format!("unknown epoch to keep `{other}`; use `best` or `last`")),
        }
    }
}

/// The learning rate over a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// The configured rate at every step.
    #[default]
    Constant,
    /// Half a cosine from the configured rate down to zero over all the steps of the run.
    Cosine,
}

impl std::str::FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "constant" => Ok(Schedule::Constant),
            "cosine" => Ok(Schedule::Cosine),
            other => Err(format!("unknown schedule `{other}`; use `constant` or `cosine`")),
        }
    }
}

impl Schedule {
    /// The rate for step `step` (0-based) of `steps`, starting from `base`.
    pub fn rate(self, base: f64, step: usize, steps: usize) -> f64 {
        match self {
            Schedule::Constant => base,
            Schedule::Cosine => base * 0.5 * (1.0 + (std::f64::consts::PI * step as f64 / steps.max(1) as f64).cos()),
        }
    }
}

/// Which part of a network a run trains.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trainable {
    /// Every weight (training from scratch, or fine-tuning everything).
    #[default]
    Whole,
    /// Only the dense layers at the end; the feature extractor is frozen (batch norm keeps its
    /// statistics). About three times cheaper a step, and hard to overfit on a few images.
    Head,
    /// The input layers and the first N blocks frozen; the later blocks and the head learn
    /// (transfer learning: the early, generic features stay as ImageNet taught them).
    AfterBlock(usize),
}

impl TrainingConfig {
    /// The notebook's settings for `architecture`: Adam 5e-4, batch 32, 10 epochs for the CNN
    /// and 16 for the MLP, a 10 % validation split.
    pub fn new(architecture: Architecture, split: SplitKind) -> Self {
        let epochs = match architecture {
            Architecture::SeedCnn(_) => 10,
            Architecture::Mlp(_) => 16,
            Architecture::EfficientNetLite0(_) => 12,
        };
        TrainingConfig {
            architecture,
            epochs,
            batch_size: 32,
            learning_rate: 5e-4,
            seed: 42,
            init_seed: None,
            split,
            valid_fraction: 0.1,
            adam_beta_1: 0.9,
            adam_beta_2: 0.999,
            adam_epsilon: 1e-7,
            trainable: Trainable::Whole,
            augment: false,
            label_smoothing: 0.0,
            class_weighted: false,
            schedule: Schedule::Constant,
            mixup: 0.0,
            weight_average: 0.0,
            keep: Keep::BestValidation,
            trunk_lr_factor: 1.0,
            drop_path: 0.0,
        }
    }

    /// The seed of the device's generator: `init_seed`, else `seed`.
    pub fn init_seed(&self) -> u64 {
        self.init_seed.unwrap_or(self.seed)
    }

    /// The optimiser these settings describe.
    pub fn adam(&self) -> AdamConfig {
        AdamConfig::new().with_beta_1(self.adam_beta_1).with_beta_2(self.adam_beta_2).with_epsilon(self.adam_epsilon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_falls_from_the_rate_to_zero() {
        let rate = |step| Schedule::Cosine.rate(1e-3, step, 100);
        assert_eq!(rate(0), 1e-3);
        assert!((rate(50) - 5e-4).abs() < 1e-12);
        assert!(rate(99) < 1e-6 && rate(99) > 0.0);
        assert!((1..100).all(|s| rate(s) < rate(s - 1)));
        assert_eq!(Schedule::Constant.rate(1e-3, 99, 100), 1e-3);
        assert_eq!("cosine".parse(), Ok(Schedule::Cosine));
        assert!("linear".parse::<Schedule>().unwrap_err().contains("unknown schedule"));
    }

    #[test]
    fn older_cards_read_without_the_later_settings() {
        let mut json =
            serde_json::to_value(TrainingConfig::new(crate::model::Architecture::seed_cnn(), SplitKind::Group)).unwrap();
        let object = json.as_object_mut().unwrap();
        object.remove("schedule");
        object.remove("mixup");
        object.remove("weight_average");
        object.remove("trunk_lr_factor");
        object.remove("keep");
        object.remove("drop_path");
        let config: TrainingConfig = serde_json::from_value(json).unwrap();
        assert_eq!((config.schedule, config.mixup, config.weight_average), (Schedule::Constant, 0.0, 0.0));
        assert_eq!((config.trunk_lr_factor, config.drop_path), (1.0, 0.0));
        assert_eq!(config.keep, Keep::BestValidation);
        assert_eq!("last".parse(), Ok(Keep::Last));
        assert!("first".parse::<Keep>().unwrap_err().contains("best` or `last"));
    }
}
