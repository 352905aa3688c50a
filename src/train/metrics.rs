//! Classification metrics from predicted probabilities: accuracy, top-3, loss, per-class
//! precision/recall/F1 and the confusion matrix. Plain arithmetic, no tensors.

use serde::{Deserialize, Serialize};

use crate::classes::FractureClass;
use crate::NUM_CLASSES;

/// Probabilities below this are clipped before the logarithm, as Keras' cross-entropy does.
const PROB_FLOOR: f64 = 1e-7;

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class folder name.
    pub class: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of images of this class.
    pub support: usize,
}

/// The evaluation of a model on a set of labelled images. The JSON field names are stable:
/// outside scripts read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub accuracy: f64,
    pub top3_accuracy: f64,
    /// Mean categorical cross-entropy.
    pub loss: f64,
    /// Mean of the per-class F1 scores.
    pub macro_f1: f64,
    /// Number of images.
    pub n: usize,
    /// One entry per class, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[actual][predicted]`, in label order.
    pub confusion: Vec<Vec<usize>>,
}

impl Evaluation {
    /// Computes the metrics from one probability row and one label per image.
    pub fn from_probabilities(probabilities: &[[f32; NUM_CLASSES]], labels: &[usize]) -> Self {
        assert_eq!(probabilities.len(), labels.len(), "one probability row per label");
        let n = labels.len();
        let mut confusion = vec![vec![0usize; NUM_CLASSES]; NUM_CLASSES];
        let (mut top3, mut loss) = (0usize, 0.0f64);
        for (row, &label) in probabilities.iter().zip(labels) {
            let ranked = ranked_classes(row);
            confusion[label][ranked[0]] += 1;
            top3 += ranked[..3].contains(&label) as usize;
            loss -= (row[label] as f64).max(PROB_FLOOR).ln();
        }
        let correct: usize = (0..NUM_CLASSES).map(|c| confusion[c][c]).sum();
        let per_class: Vec<ClassMetrics> = FractureClass::ALL
            .iter()
            .map(|class| {
                let c = class.index();
                let support: usize = confusion[c].iter().sum();
                let predicted: usize = confusion.iter().map(|row| row[c]).sum();
                let tp = confusion[c][c] as f64;
                let precision = ratio(tp, predicted as f64);
                let recall = ratio(tp, support as f64);
                let f1 = ratio(2.0 * precision * recall, precision + recall);
                ClassMetrics { class: class.folder_name().to_string(), precision, recall, f1, support }
            })
            .collect();
        let macro_f1 = per_class.iter().map(|m| m.f1).sum::<f64>() / NUM_CLASSES as f64;
        Evaluation {
            accuracy: ratio(correct as f64, n as f64),
            top3_accuracy: ratio(top3 as f64, n as f64),
            loss: ratio(loss, n as f64),
            macro_f1,
            n,
            per_class,
            confusion,
        }
    }

    /// How many images changed their first choice between `other` and this evaluation of the
    /// same images, as far as the confusion matrices tell (half their cell-by-cell difference:
    /// a lower bound, since two images trading answers within one row cancel out).
    pub fn answers_moved(&self, other: &Evaluation) -> usize {
        let cells = self.confusion.iter().flatten().zip(other.confusion.iter().flatten());
        cells.map(|(a, b)| a.abs_diff(*b)).sum::<usize>() / 2
    }
}

/// Class indices sorted by decreasing probability (ties keep label order).
pub fn ranked_classes(row: &[f32; NUM_CLASSES]) -> [usize; NUM_CLASSES] {
    let mut order: [usize; NUM_CLASSES] = std::array::from_fn(|i| i);
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
    order
}

/// `num / den`, or 0 when nothing was counted (scikit-learn's `zero_division=0`).
fn ratio(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        0.0
    } else {
        num / den
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_hot_ish(winner: usize, second: usize, third: usize) -> [f32; NUM_CLASSES] {
        let mut row = [0.0; NUM_CLASSES];
        row[winner] = 0.5;
        row[second] = 0.25;
        row[third] = 0.125;
        let rest = (1.0 - 0.875) / 7.0;
        for (i, p) in row.iter_mut().enumerate() {
            if ![winner, second, third].contains(&i) {
                *p = rest;
            }
        }
        row
    }

    #[test]
    fn answers_moved_counts_images_that_changed_cells() {
        let before =
            Evaluation::from_probabilities(&[one_hot_ish(0, 1, 2), one_hot_ish(1, 0, 2), one_hot_ish(2, 0, 1)], &[0, 1, 2]);
        let after =
            Evaluation::from_probabilities(&[one_hot_ish(0, 1, 2), one_hot_ish(0, 1, 2), one_hot_ish(1, 0, 2)], &[0, 1, 2]);
        assert_eq!(before.answers_moved(&before), 0);
        assert_eq!(after.answers_moved(&before), 2);
        assert_eq!(before.answers_moved(&after), 2);
    }

    #[test]
    fn metric_math_on_a_hand_made_case() {
        // Four images: class 0 right, class 0 predicted as 1 (0 second), class 1 right,
        // class 2 predicted as 1 with 2 outside the top three.
        let probabilities = [one_hot_ish(0, 1, 2), one_hot_ish(1, 0, 2), one_hot_ish(1, 2, 3), one_hot_ish(1, 3, 4)];
        let labels = [0, 0, 1, 2];
        let e = Evaluation::from_probabilities(&probabilities, &labels);
        assert_eq!(e.n, 4);
        assert_eq!(e.accuracy, 0.5);
        assert_eq!(e.top3_accuracy, 0.75);
        assert_eq!(e.confusion[0][0], 1);
        assert_eq!(e.confusion[0][1], 1);
        assert_eq!(e.confusion[1][1], 1);
        assert_eq!(e.confusion[2][1], 1);
        // Class 0: precision 1/1, recall 1/2, F1 2/3. Class 1: precision 1/3, recall 1/1, F1 1/2.
        let (c0, c1, c2) = (&e.per_class[0], &e.per_class[1], &e.per_class[2]);
        assert_eq!((c0.precision, c0.recall, c0.support), (1.0, 0.5, 2));
        assert!((c0.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((c1.precision - 1.0 / 3.0).abs() < 1e-12 && c1.recall == 1.0 && (c1.f1 - 0.5).abs() < 1e-12);
        assert_eq!((c2.precision, c2.recall, c2.f1), (0.0, 0.0, 0.0));
        assert!((e.macro_f1 - (2.0 / 3.0 + 0.5) / 10.0).abs() < 1e-12);
        let rest = (0.125f32 / 7.0) as f64;
        let expected_loss = -(0.5f64.ln() + 0.25f64.ln() + 0.5f64.ln() + rest.ln()) / 4.0;
        assert!((e.loss - expected_loss).abs() < 1e-6, "{} vs {expected_loss}", e.loss);
    }

    #[test]
    fn ranking_breaks_ties_by_label_order() {
        let row = [0.1; NUM_CLASSES];
        assert_eq!(ranked_classes(&row)[..3], [0, 1, 2]);
    }
}
