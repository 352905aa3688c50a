//! A "model soup": the uniform average of the weights of several models of one architecture
//! (Wortsman et al., 2022). Models fine-tuned from the same pretrained weights, with the same
//! fresh head, tend to sit in one basin of the loss, where their average is a model of its own
//! that scores like their ensemble but costs one pass. Batch-norm running statistics are
//! averaged the same way.
//!
//! Tensors are matched by their order in the module tree: two models of one architecture list
//! their parameters in the same order, whatever their [`burn::module::ParamId`]s.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

use crate::model::Classifier;

/// The average of `models`' weights, in evaluation mode; `None` for an empty list. The models
/// must share one architecture (a different one is a programming error, and panics).
pub fn average_weights(models: &[Classifier]) -> Option<Classifier> {
    let (first, rest) = models.split_first()?;
    let mut sums = InOrder(Vec::new());
    first.visit(&mut sums);
    for model in rest {
        let mut tensors = InOrder(Vec::new());
        model.visit(&mut tensors);
        assert_eq!(tensors.0.len(), sums.0.len(), "every model of a soup has the same architecture");
        for (sum, tensor) in sums.0.iter_mut().zip(tensors.0) {
            *sum = sum.clone() + tensor;
        }
    }
    let scale = 1.0 / models.len() as f64;
    let mean = sums.0.into_iter().map(|sum| sum.mul_scalar(scale)).collect();
    // `valid()` gives the running statistics new storage, which the mapping may write in place:
    // the first model keeps its own.
    Some(first.valid().map(&mut Replace(mean, 0)))
}

/// Every float tensor (parameters and running statistics), flattened, in module order.
struct InOrder(Vec<Tensor<1>>);

impl ModuleVisitor for InOrder {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let n = value.shape().num_elements();
        self.0.push(value.reshape([n]));
    }
}

/// Puts the `i`-th tensor of the list in the place of the `i`-th float tensor of the module.
struct Replace(Vec<Tensor<1>>, usize);

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let value = self.0[self.1].clone();
        self.1 += 1;
        param.map(|old| value.reshape(old.shape()))
    }
}
