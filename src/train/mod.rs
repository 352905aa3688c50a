//! Training and evaluation: one hand-written loop for the command line and the browser.
//!
//! Everything here is `async` because a browser cannot block on the GPU: on WebGPU every read
//! of a tensor must be awaited. Native callers run the same futures to completion with a
//! blocking executor, so the command line, the tests and the page share one code path.

pub mod calibration;
pub mod config;
pub mod cross_validation;
pub mod finetune;
pub mod fit;
pub mod metrics;
pub mod mixup;
pub mod soup;
pub mod source;
pub mod step;
pub mod weight_average;

pub use calibration::{apply_temperature, expected_calibration_error, Calibration};
pub use config::{Keep, Schedule, Trainable, TrainingConfig};
pub use cross_validation::{AveragedViews, CrossValidation, FoldResult, MeanSd, Prediction, PredictionPart};
pub use finetune::{fine_tune, held_out_split, FineTuneOptions, FineTuneReport, FineTuned, HeldOutImage};
pub use fit::{fit, fit_source, BatchReport, EpochReport, FitOutcome, TrainObserver};
pub use metrics::{ranked_classes, ClassMetrics, Evaluation};
pub use soup::average_weights;
pub use source::{Cached, Images, Source};
pub use step::{
    evaluate, mean_row, predict, predict_averaged_views, predict_each_view, predict_source, predict_views, predict_with_heatmap,
    StepStats, Trainer,
};
pub use weight_average::WeightAverage;

/// A failure while training or evaluating.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("reading a result back from the device failed: {0}")]
    Device(String),
    /// The GPU went away (driver reset, device destroyed); every later operation on it fails.
    #[error("the GPU was lost ({0})")]
    DeviceLost(String),
    #[error("the loss became {value} at epoch {epoch}, batch {batch}; try a lower learning rate")]
    NonFiniteLoss { epoch: usize, batch: usize, value: f32 },
    #[error("nothing to train on: {0}")]
    NoData(String),
}
