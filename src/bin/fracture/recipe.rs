//! The model and training settings that `fracture train` and `fracture cv` share, so a
//! cross-validated recipe is trained for shipping with the same flags.

use std::path::PathBuf;

use bone_fracture::data::{Framing, LabelledXray, SplitKind};
use bone_fracture::model::{Architecture, Classifier};
use bone_fracture::store::pytorch::{default_pth_path, efficientnet_from_pth, Head};
use bone_fracture::store::InputSpec;
use bone_fracture::train::{
    fit_source, predict_source, Cached, FitOutcome, Images, Keep, Schedule, Source, TrainError, Trainable, TrainingConfig,
};
use bone_fracture::NUM_CLASSES;
use burn::tensor::Device;
use clap::{Args, ValueEnum};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::progress::Progress;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelChoice {
    /// The notebook's four-layer CNN.
    Cnn,
    /// The notebook's MLP baseline.
    Mlp,
    /// EfficientNet-Lite0 from ImageNet weights, with a new 10-class head.
    Efficientnet,
}

#[derive(Args)]
pub struct Recipe {
    #[arg(long, value_enum, default_value = "cnn")]
    pub model: ModelChoice,
    /// Default: 10 for the CNN, 16 for the MLP, 12 for EfficientNet.
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 5e-4)]
    pub lr: f64,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Seed of the new layers' first weights and of dropout (default: --seed). Runs that
    /// share it start from one network, so their weights can be averaged (`fracture soup`)
    /// while --seed gives each its own batches and augmented views.
    #[arg(long)]
    pub init_seed: Option<u64>,
    /// Draw the held-out images (`train`'s validation split, `cv`'s folds) with this seed
    /// instead of --seed: runs that differ only in their training randomness then share them,
    /// as `fracture soup` (one `split.csv`) and `fracture combine` (one set of folds) need.
    #[arg(long, alias = "fold-seed")]
    pub split_seed: Option<u64>,
    /// Keep the input layers and the first N blocks frozen (EfficientNet: 0–16 MBConv blocks;
    /// 16 trains the 1x1 head convolution and the classifier). Default: train everything.
    #[arg(long)]
    pub frozen_blocks: Option<usize>,
    /// Random flips, rotations, zooms and exposure changes of the training images.
    #[arg(long)]
    pub augment: bool,
    /// Label smoothing of the loss (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub label_smoothing: f32,
    /// Weight each class's loss by its rarity.
    #[arg(long)]
    pub class_weighted: bool,
    /// Trim flat padding bars from every image before resizing (the card records it, and the
    /// page and `evaluate` do the same for this model).
    #[arg(long)]
    pub trim_bars: bool,
    /// The learning rate over the run: constant, or a half cosine from --lr down to zero.
    #[arg(long, default_value = "constant")]
    pub lr_schedule: Schedule,
    /// Mixup's α (0: none): train on blends of two images and of their labels, the blend's
    /// weight drawn from Beta(α, α); with --cache-views, blends of the cached blocks' output.
    #[arg(long, default_value_t = 0.0)]
    pub mixup: f32,
    /// Validate and keep each epoch as an exponential moving average of the weights over the
    /// steps, keeping this much of the average at each step (0: none; 0.98 ≈ the last 50 steps).
    #[arg(long, default_value_t = 0.0)]
    pub weight_average: f64,
    /// The epoch to keep: `best` (lowest validation loss) or `last` (the run's length fixed;
    /// validation only reports and fits the temperature).
    #[arg(long, default_value = "best")]
    pub keep: Keep,
    /// Train the trunk (every layer but the new classifier; the seed CNN: but its two dense
    /// layers) at --lr × this: below 1, pretrained blocks move more slowly than the head.
    #[arg(long, default_value_t = 1.0)]
    pub trunk_lr_factor: f64,
    /// Stochastic depth (EfficientNet): block i's residual branch dropped for whole training
    /// samples with probability this × i / 16 (EfficientNet was trained with 0.2; 0: none).
    #[arg(long, default_value_t = 0.0)]
    pub drop_path: f64,
    /// With --frozen-blocks, compute the frozen blocks once per image instead of at every
    /// step: the image and N-1 augmented variants of it (with --augment each step picks one).
    /// 0: no cache.
    #[arg(long, default_value_t = 0)]
    pub cache_views: usize,
    /// Cache the output of this many blocks (at most --frozen-blocks; default: all the frozen
    /// ones). Frozen blocks after it run at every step, without gradients.
    #[arg(long)]
    pub cache_blocks: Option<usize>,
    /// EfficientNet's ImageNet weights (`efficientnet-lite0-57934424.pth`). Default:
    /// $IMAGENET_WEIGHTS, else where the set-up scripts put it.
    #[arg(long)]
    pub imagenet: Option<PathBuf>,
}

impl Recipe {
    /// The training settings for `split`.
    pub fn config(&self, split: SplitKind, valid_fraction: f64) -> TrainingConfig {
        let architecture = match self.model {
            ModelChoice::Cnn => Architecture::seed_cnn(),
            ModelChoice::Mlp => Architecture::mlp(),
            ModelChoice::Efficientnet => Architecture::efficientnet_lite0(),
        };
        let mut config = TrainingConfig::new(architecture, split);
        config.epochs = self.epochs.unwrap_or(config.epochs);
        config.batch_size = self.batch_size;
        config.learning_rate = self.lr;
        config.seed = self.seed;
        config.init_seed = self.init_seed;
        config.valid_fraction = valid_fraction;
        config.trainable = self.frozen_blocks.map_or(Trainable::Whole, Trainable::AfterBlock);
        config.augment = self.augment;
        config.label_smoothing = self.label_smoothing;
        config.class_weighted = self.class_weighted;
        config.schedule = self.lr_schedule;
        config.mixup = self.mixup;
        config.weight_average = self.weight_average;
        config.keep = self.keep;
        config.trunk_lr_factor = self.trunk_lr_factor;
        config.drop_path = self.drop_path;
        config
    }

    /// How images are prepared for the model: the card's `input`.
    pub fn input(&self) -> InputSpec {
        InputSpec { framing: if self.trim_bars { Framing::TrimBars } else { Framing::Whole }, ..InputSpec::default() }
    }

    /// The seed of the held-out images: --split-seed, else --seed.
    pub fn split_seed(&self) -> u64 {
        self.split_seed.unwrap_or(self.seed)
    }

    /// The starting network: fresh weights, or ImageNet's trunk with a fresh head. The fresh
    /// layers are drawn lazily, with the seed `fit_source` sets (`TrainingConfig::init_seed`).
    pub fn init(&self, config: &TrainingConfig, device: &Device) -> Result<Classifier, String> {
        match self.model {
            ModelChoice::Efficientnet => {
                let pth = self.imagenet.clone().unwrap_or_else(default_pth_path);
                let model = efficientnet_from_pth(&pth, Head::Fresh, device).map_err(|e| e.to_string())?;
                Ok(Classifier::EfficientNet(model))
            }
            _ => Ok(config.architecture.init(device)),
        }
    }

    /// The frozen prefix's output for `items`, when the recipe caches it (else `None`).
    pub fn prefix_cache(
        &self,
        config: &TrainingConfig,
        model: &Classifier,
        items: &[&LabelledXray],
        device: &Device,
    ) -> Result<Option<Cached>, String> {
        let (Some(frozen), true) = (self.frozen_blocks, self.cache_views > 0) else { return Ok(None) };
        let blocks = self.cache_blocks.unwrap_or(frozen);
        if blocks == 0 || blocks > frozen || self.model != ModelChoice::Efficientnet {
            return Err(
                "--cache-views needs --model efficientnet, --frozen-blocks of 1 or more and --cache-blocks no more than those"
                    .into(),
            );
        }
        let views = if config.augment { self.cache_views } else { 1 };
        eprintln!("computing the frozen blocks once: {} images × {views} views …", items.len());
        let started = std::time::Instant::now();
        let cache =
            pollster::block_on(Cached::build(model, items, blocks, views, &mut views_rng(config), config.batch_size, device))
                .map_err(|e| e.to_string())?;
        eprintln!("cached {:.0} MB in {:.0} s", cache.bytes() as f64 / 1e6, started.elapsed().as_secs_f64());
        Ok(Some(cache))
    }

    /// Trains `model` on `items[train]`, picking the epoch on `items[valid]` (through `cache`,
    /// built on all of `items`, when there is one), and returns the run with the kept model's
    /// probabilities on `valid` and then on each index set of `score`.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        &self,
        config: &TrainingConfig,
        model: Classifier,
        items: &[LabelledXray],
        cache: Option<&Cached>,
        (train, valid): (&[usize], &[usize]),
        score: &[&[usize]],
        device: &Device,
        progress: &mut Progress<'_>,
    ) -> Result<(FitOutcome, ScoredRows), String> {
        let result = match cache {
            Some(cache) => {
                let scored: Vec<Cached> = score.iter().map(|idx| cache.subset(idx)).collect();
                fit_and_score(config, model, &cache.subset(train), cache.subset(valid), scored, device, progress)
            }
            None => {
                let pick = |idx: &[usize]| idx.iter().map(|&i| &items[i]).collect::<Vec<_>>();
                let (train, valid) = (pick(train), pick(valid));
                let scored: Vec<Vec<&LabelledXray>> = score.iter().map(|idx| pick(idx)).collect();
                let scored = scored.iter().map(|items| Images(items)).collect();
                fit_and_score(config, model, &Images(&train), Images(&valid), scored, device, progress)
            }
        };
        progress.bar.finish_and_clear();
        result.map_err(|e| e.to_string())
    }

    /// The name a shipped card shows.
    pub fn display_name(&self) -> &'static str {
        match self.model {
            ModelChoice::Cnn => "Seed CNN (reference notebook's four-layer CNN)",
            ModelChoice::Mlp => "Seed MLP (reference notebook's baseline)",
            ModelChoice::Efficientnet => "EfficientNet-Lite0 (ImageNet weights, fine-tuned)",
        }
    }
}

/// The random generator that draws the cached views' augmentations: the same views for every
/// run of one seed on the same images.
pub fn views_rng(config: &TrainingConfig) -> StdRng {
    StdRng::seed_from_u64(config.seed ^ 0x5eed)
}

/// The kept model's probabilities, one list of rows per scored set of images.
type ScoredRows = Vec<Vec<[f32; NUM_CLASSES]>>;

/// The one loop for either source: fit, then the kept model's probabilities on `valid` and on
/// each of `scored`.
fn fit_and_score<S: Source>(
    config: &TrainingConfig,
    model: Classifier,
    train: &S,
    valid: S,
    scored: Vec<S>,
    device: &Device,
    progress: &mut Progress<'_>,
) -> Result<(FitOutcome, ScoredRows), TrainError> {
    let outcome = pollster::block_on(fit_source(config, model, train, &valid, device, progress))?;
    let mut rows = Vec::with_capacity(1 + scored.len());
    for source in std::iter::once(valid).chain(scored) {
        rows.push(pollster::block_on(predict_source(&outcome.model, &source, config.batch_size, device))?);
    }
    Ok((outcome, rows))
}
