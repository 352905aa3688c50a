//! Train/validation splits, seeded.
//!
//! `Random` is the reference notebook's `validation_split` (a shuffled 90/10 cut, for
//! comparison only: copies of one X-ray fall on both sides). `Group` keeps every near-duplicate
//! group on one side and is stratified by class, so validation measures unseen X-rays.

use std::collections::BTreeMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::classes::FractureClass;

/// How to cut a dataset into training and validation parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitKind {
    /// Shuffle images and cut (the reference notebook's split).
    Random,
    /// Whole near-duplicate groups on one side, stratified by class.
    Group,
}

impl std::str::FromStr for SplitKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "random" => Ok(SplitKind::Random),
            "group" => Ok(SplitKind::Group),
            other => Err(format!("unknown split `{other}`; use `random` or `group`")),
        }
    }
}

/// Indices into a dataset's items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
}

/// Splits `n` items, `valid_fraction` of them for validation.
///
/// `classes[i]` and `groups[i]` describe item `i`. For the group split, a group goes to the
/// class of its first item; within each class the groups are shuffled and moved to validation
/// until that class has its share of validation images.
pub fn split(kind: SplitKind, classes: &[FractureClass], groups: &[String], valid_fraction: f64, seed: u64) -> Split {
    assert_eq!(classes.len(), groups.len(), "one class and one group per item");
    let mut rng = StdRng::seed_from_u64(seed);
    let n = classes.len();
    match kind {
        SplitKind::Random => {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            let n_valid = ((n as f64) * valid_fraction).round() as usize;
            let (valid, train) = order.split_at(n_valid.min(n));
            sorted(train.to_vec(), valid.to_vec())
        }
        SplitKind::Group => {
            // group id → its items, in first-seen order (BTreeMap on the first index keeps it
            // deterministic).
            let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (i, g) in groups.iter().enumerate() {
                members.entry(g.as_str()).or_default().push(i);
            }
            let mut by_class: BTreeMap<FractureClass, Vec<Vec<usize>>> = BTreeMap::new();
            let mut grouped: Vec<Vec<usize>> = members.into_values().collect();
            grouped.sort_by_key(|items| items[0]);
            for items in grouped {
                by_class.entry(classes[items[0]]).or_default().push(items);
            }
            let (mut train, mut valid) = (Vec::new(), Vec::new());
            for (_, mut class_groups) in by_class {
                class_groups.shuffle(&mut rng);
                let total: usize = class_groups.iter().map(Vec::len).sum();
                let target = (total as f64 * valid_fraction).round() as usize;
                let mut taken = 0;
                for items in class_groups {
                    // Take a group while that brings the class closer to its target share.
                    let closer = (taken + items.len()).abs_diff(target) < taken.abs_diff(target);
                    if taken < target && closer {
                        taken += items.len();
                        valid.extend(items);
                    } else {
                        train.extend(items);
                    }
                }
            }
            sorted(train, valid)
        }
    }
}

/// `k` group-disjoint, class-stratified cross-validation folds: every item is in exactly one
/// fold's validation part, a near-duplicate group never straddles training and validation, and
/// each class is spread evenly over the folds.
///
/// Within each class (a group belongs to the class of its first item) the groups are shuffled,
/// then placed largest first into the fold that holds the fewest items of that class so far.
pub fn group_folds(classes: &[FractureClass], groups: &[String], k: usize, seed: u64) -> Vec<Split> {
    assert_eq!(classes.len(), groups.len(), "one class and one group per item");
    assert!(k >= 2, "cross-validation needs at least two folds");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut members: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, g) in groups.iter().enumerate() {
        members.entry(g.as_str()).or_default().push(i);
    }
    let mut grouped: Vec<Vec<usize>> = members.into_values().collect();
    grouped.sort_by_key(|items| items[0]);
    let mut by_class: BTreeMap<FractureClass, Vec<Vec<usize>>> = BTreeMap::new();
    for items in grouped {
        by_class.entry(classes[items[0]]).or_default().push(items);
    }
    let mut valid: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (_, mut class_groups) in by_class {
        class_groups.shuffle(&mut rng);
        class_groups.sort_by_key(|items| std::cmp::Reverse(items.len())); // stable: ties stay shuffled
        let mut in_fold = vec![0usize; k];
        for items in class_groups {
            let fold = (0..k).min_by_key(|&f| (in_fold[f], valid[f].len())).expect("k >= 2");
            in_fold[fold] += items.len();
            valid[fold].extend(items);
        }
    }
    valid
        .into_iter()
        .map(|fold_valid| {
            let held: std::collections::HashSet<usize> = fold_valid.iter().copied().collect();
            let train = (0..classes.len()).filter(|i| !held.contains(i)).collect();
            sorted(train, fold_valid)
        })
        .collect()
}

fn sorted(mut train: Vec<usize>, mut valid: Vec<usize>) -> Split {
    train.sort_unstable();
    valid.sort_unstable();
    Split { train, valid }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn toy(n: usize) -> (Vec<FractureClass>, Vec<String>) {
        // Groups of 1 to 4 items; classes cycle per group.
        let (mut classes, mut groups) = (Vec::new(), Vec::new());
        let mut g = 0;
        while classes.len() < n {
            for _ in 0..(g % 4 + 1) {
                classes.push(FractureClass::ALL[g % crate::NUM_CLASSES]);
                groups.push(format!("g{g}"));
            }
            g += 1;
        }
        (classes, groups)
    }

    #[test]
    fn group_split_never_puts_one_group_on_both_sides() {
        let (classes, groups) = toy(600);
        for seed in 0..20 {
            let s = split(SplitKind::Group, &classes, &groups, 0.2, seed);
            assert_eq!(s.train.len() + s.valid.len(), classes.len());
            let train_groups: HashSet<_> = s.train.iter().map(|&i| &groups[i]).collect();
            assert!(s.valid.iter().all(|&i| !train_groups.contains(&groups[i])), "seed {seed}");
            // Every class is represented in validation, near its share.
            for class in FractureClass::ALL {
                let in_valid = s.valid.iter().filter(|&&i| classes[i] == class).count();
                let total = classes.iter().filter(|&&c| c == class).count();
                assert!(in_valid > 0, "{class} missing from validation");
                assert!((in_valid as f64 - 0.2 * total as f64).abs() <= 4.0, "{class}: {in_valid}/{total}");
            }
        }
    }

    #[test]
    fn cross_validation_folds_are_group_disjoint_stratified_and_cover_everything_once() {
        let (classes, groups) = toy(700);
        let folds = group_folds(&classes, &groups, 5, 11);
        assert_eq!(folds.len(), 5);
        let mut seen = vec![0; classes.len()];
        for (f, fold) in folds.iter().enumerate() {
            assert_eq!(fold.train.len() + fold.valid.len(), classes.len());
            fold.valid.iter().for_each(|&i| seen[i] += 1);
            let train_groups: HashSet<_> = fold.train.iter().map(|&i| &groups[i]).collect();
            assert!(fold.valid.iter().all(|&i| !train_groups.contains(&groups[i])), "fold {f}: a group straddles");
        }
        assert!(seen.iter().all(|&n| n == 1), "every item is validated exactly once");
        // Per class, the folds differ by at most one group (the largest is 4 items).
        for class in FractureClass::ALL {
            let counts: Vec<usize> =
                folds.iter().map(|fold| fold.valid.iter().filter(|&&i| classes[i] == class).count()).collect();
            let (low, high) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(high - low <= 4 && *low > 0, "{class}: {counts:?}");
        }
        assert_eq!(folds, group_folds(&classes, &groups, 5, 11), "seeded");
        assert_ne!(folds, group_folds(&classes, &groups, 5, 12));
    }

    #[test]
    fn splits_are_seeded_and_random_is_ninety_ten() {
        let (classes, groups) = toy(500);
        let a = split(SplitKind::Random, &classes, &groups, 0.1, 7);
        assert_eq!(a, split(SplitKind::Random, &classes, &groups, 0.1, 7));
        assert_ne!(a, split(SplitKind::Random, &classes, &groups, 0.1, 8));
        assert_eq!(a.valid.len(), 50);
        assert_eq!(split(SplitKind::Group, &classes, &groups, 0.1, 3), split(SplitKind::Group, &classes, &groups, 0.1, 3));
    }
}
