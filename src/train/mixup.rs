//! Mixup (Zhang et al., 2018): train on blends of two examples and of their labels.
//!
//! Each batch is blended with a shuffled copy of itself, `λ·x + (1−λ)·x[partner]`, and the loss
//! is `λ·CE(y) + (1−λ)·CE(y[partner])`. With a cached frozen prefix the blend is of that
//! prefix's output (manifold mixup). It keeps a network that fits its few training images
//! within a few epochs from becoming certain of them.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::RngExt;

/// How one batch is blended.
#[derive(Debug, Clone, PartialEq)]
pub struct Mix {
    /// Weight of each item itself; `1 − lambda` goes to its partner.
    pub lambda: f32,
    /// The batch position each item is blended with (a permutation of `0..n`).
    pub partner: Vec<usize>,
}

impl Mix {
    /// A blend for a batch of `n`, with λ ~ Beta(α, α).
    pub fn draw(alpha: f32, n: usize, rng: &mut StdRng) -> Mix {
        let mut partner: Vec<usize> = (0..n).collect();
        partner.shuffle(rng);
        Mix { lambda: beta(alpha as f64, rng) as f32, partner }
    }
}

/// A draw from Beta(α, α) by Jöhnk's method (exact for every α > 0, quick for α ≤ 1).
fn beta(alpha: f64, rng: &mut StdRng) -> f64 {
    loop {
        let x = rng.random::<f64>().powf(1.0 / alpha);
        let y = rng.random::<f64>().powf(1.0 / alpha);
        if x + y <= 1.0 && x + y > 0.0 {
            return x / (x + y);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn lambda_follows_a_symmetric_beta() {
        let mut rng = StdRng::seed_from_u64(7);
        for (alpha, variance) in [(0.4f64, 0.25 / (2.0 * 0.4 + 1.0)), (1.0, 1.0 / 12.0)] {
            let draws: Vec<f64> = (0..20_000).map(|_| beta(alpha, &mut rng)).collect();
            assert!(draws.iter().all(|l| (0.0..=1.0).contains(l)));
            let mean = draws.iter().sum::<f64>() / draws.len() as f64;
            let var = draws.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / draws.len() as f64;
            assert!((mean - 0.5).abs() < 0.01, "α {alpha}: mean {mean}");
            assert!((var - variance).abs() < 0.01, "α {alpha}: variance {var}, expected {variance}");
        }
    }

    #[test]
    fn partners_are_a_permutation_of_the_batch() {
        let mut rng = StdRng::seed_from_u64(3);
        let mix = Mix::draw(0.4, 32, &mut rng);
        let mut sorted = mix.partner.clone();
        sorted.sort();
        assert_eq!(sorted, (0..32).collect::<Vec<_>>());
        assert_ne!(mix.partner, sorted, "a shuffled batch");
    }
}
