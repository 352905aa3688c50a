//! Where a run's inputs come from: decoded X-rays, or the cached output of a frozen prefix of
//! the network.
//!
//! A frozen prefix computes the same thing every epoch, so transfer learning computes it once
//! per image (and per augmented view of it) and trains only the blocks after it: on a CPU that
//! is several times faster than running EfficientNet's early, high-resolution blocks at every
//! step. Both sources feed the one training loop ([`super::fit`]).

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;

use burn::prelude::*;

use super::step::read_f32;
use super::TrainError;
use crate::data::{augment, images_to_tensor, LabelledXray, Xray};
use crate::model::Classifier;

/// Labelled inputs for training or evaluation.
pub trait Source {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Class index of item `i`.
    fn label(&self, i: usize) -> usize;
    /// The block the inputs enter the network at (0: they are images).
    fn first_block(&self) -> usize;
    /// The inputs of `items`, as one batch. With `rng` (training with augmentation) each item
    /// is a random variant of itself.
    fn batch(&self, items: &[usize], rng: Option<&mut StdRng>, device: &Device) -> Tensor<4>;
}

/// Decoded X-rays; augmentation changes them afresh each time.
pub struct Images<'a>(pub &'a [&'a LabelledXray]);

impl Source for Images<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn label(&self, i: usize) -> usize {
        self.0[i].class.index()
    }
    fn first_block(&self) -> usize {
        0
    }
    fn batch(&self, items: &[usize], rng: Option<&mut StdRng>, device: &Device) -> Tensor<4> {
        match rng {
            Some(rng) => {
                let changed: Vec<Xray> = items.iter().map(|&i| augment(&self.0[i].xray, rng)).collect();
                images_to_tensor(&changed, device)
            }
            None => images_to_tensor(items.iter().map(|&i| &self.0[i].xray), device),
        }
    }
}

/// The output of a network's first blocks for each item, computed once: the item itself
/// (view 0) and `views - 1` augmented variants, kept on the host.
pub struct Cached {
    first_block: usize,
    /// `[channels, height, width]` of one view.
    shape: [usize; 3],
    /// `views[item][view]`.
    views: Vec<Vec<Vec<f32>>>,
    labels: Vec<usize>,
}

impl Cached {
    /// Runs `items` (and `views - 1` augmentations of each, drawn with `rng`) through `model`'s
    /// stem and blocks `0..first_block`, in evaluation mode, `batch_size` at a time.
    pub async fn build(
        model: &Classifier,
        items: &[&LabelledXray],
        first_block: usize,
        views: usize,
        rng: &mut StdRng,
        batch_size: usize,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let model = model.valid();
        let mut cached: Vec<Vec<Vec<f32>>> = vec![Vec::with_capacity(views); items.len()];
        let mut shape = [0; 3];
        for view in 0..views.max(1) {
            for (chunk_index, chunk) in items.chunks(batch_size.max(1)).enumerate() {
                let xrays: Vec<Xray> = match view {
                    0 => chunk.iter().map(|item| item.xray.clone()).collect(),
                    _ => chunk.iter().map(|item| augment(&item.xray, rng)).collect(),
                };
                let out = model.prefix(images_to_tensor(&xrays, device), first_block);
                let [_, c, h, w] = out.dims();
                shape = [c, h, w];
                let values = read_f32(out).await?;
                for (k, one) in values.chunks_exact(c * h * w).enumerate() {
                    cached[chunk_index * batch_size.max(1) + k].push(one.to_vec());
                }
            }
        }
        Ok(Cached { first_block, shape, views: cached, labels: items.iter().map(|i| i.class.index()).collect() })
    }

    /// The cache of `items` (indices into this one), in that order.
    pub fn subset(&self, items: &[usize]) -> Cached {
        Cached {
            first_block: self.first_block,
            shape: self.shape,
            views: items.iter().map(|&i| self.views[i].clone()).collect(),
            labels: items.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// Views kept per item (the item itself and its augmented variants).
    pub fn view_count(&self) -> usize {
        self.views.first().map_or(0, Vec::len)
    }

    /// View `view` of every item, as a cache of one view each (view 0 is the item itself).
    pub fn view(&self, view: usize) -> Cached {
        Cached {
            first_block: self.first_block,
            shape: self.shape,
            views: self.views.iter().map(|views| vec![views[view].clone()]).collect(),
            labels: self.labels.clone(),
        }
    }

    /// Bytes the cache holds on the host.
    pub fn bytes(&self) -> usize {
        self.views.iter().flatten().map(|v| v.len() * 4).sum()
    }
}

impl Source for Cached {
    fn len(&self) -> usize {
        self.labels.len()
    }
    fn label(&self, i: usize) -> usize {
        self.labels[i]
    }
    fn first_block(&self) -> usize {
        self.first_block
    }
    fn batch(&self, items: &[usize], rng: Option<&mut StdRng>, device: &Device) -> Tensor<4> {
        let [c, h, w] = self.shape;
        let mut values = Vec::with_capacity(items.len() * c * h * w);
        match rng {
            Some(rng) => items.iter().for_each(|&i| values.extend_from_slice(self.views[i].choose(rng).expect("a view"))),
            None => items.iter().for_each(|&i| values.extend_from_slice(&self.views[i][0])),
        }
        Tensor::from_data(TensorData::new(values, [items.len(), c, h, w]), device)
    }
}
