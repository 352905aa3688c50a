//! An exponential moving average of the weights over the training steps (Polyak averaging, as
//! TensorFlow's `ExponentialMovingAverage` and timm's `ModelEmaV2` keep it).
//!
//! On a few hundred images the weights after any one step carry that step's noise, and the
//! epoch kept by validation loss is partly chance. The average moves more slowly and sits
//! nearer the middle of where the steps wander. Batch-norm running statistics are averaged the
//! same way, so the averaged model is complete on its own.
//!
//! A module's clones share their running statistics (`RunningState` is behind an `Arc`), and
//! mapping a module writes them in place. So the average takes its own copy of them when it
//! starts and hands out copies (`valid()` makes new ones), and no model outside it changes
//! when it moves.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::prelude::*;

use crate::model::Classifier;

/// The running average of a model's weights; every float parameter and running statistic is
/// matched by its [`ParamId`], which training never changes.
pub struct WeightAverage {
    decay: f64,
    updates: usize,
    model: Option<Classifier>,
}

impl WeightAverage {
    /// An empty average that keeps `decay` of itself at each update (0.99: about the last 100
    /// steps count).
    pub fn new(decay: f64) -> Self {
        WeightAverage { decay, updates: 0, model: None }
    }

    /// Folds `current` (in evaluation mode) into the average. Early updates weigh the average
    /// less, `min(decay, (1 + n) / (10 + n))` after `n` updates, so that the starting weights do
    /// not linger in it.
    pub fn update(&mut self, current: Classifier) {
        self.model = Some(match self.model.take() {
            None => current.valid(),
            Some(average) => {
                let keep = self.decay.min((1 + self.updates) as f64 / (10 + self.updates) as f64);
                let mut latest = Latest(HashMap::new());
                current.visit(&mut latest);
                average.map(&mut Blend { latest: latest.0, keep })
            }
        });
        self.updates += 1;
    }

    /// A copy of the averaged model, once there has been an update.
    pub fn model(&self) -> Option<Classifier> {
        self.model.as_ref().map(Module::valid)
    }
}

/// Every float tensor of a model, flattened, by parameter id.
struct Latest(HashMap<ParamId, Tensor<1>>);

impl ModuleVisitor for Latest {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let n = value.shape().num_elements();
        self.0.insert(param.id, value.reshape([n]));
    }
}

/// `keep · average + (1 − keep) · latest` for every tensor the latest model has.
struct Blend {
    latest: HashMap<ParamId, Tensor<1>>,
    keep: f64,
}

impl ModuleMapper for Blend {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let Some(latest) = self.latest.remove(&param.id) else { return param };
        let keep = self.keep;
        param.map(|average| {
            let shape = average.shape();
            average.mul_scalar(keep) + latest.reshape(shape).mul_scalar(1.0 - keep)
        })
    }
}
