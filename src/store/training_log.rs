//! A model folder's per-epoch log, `metrics.jsonl`: one [`EpochReport`] per line, as training
//! writes it. A soup was never trained itself: its log holds the epochs of every run it
//! averages, each line tagged with the run's place (1, 2, …) in the card's `averaged_from`, so
//! that each run's curves can be drawn apart (the page does not read the tag yet: it reads the
//! log in `app::analysis` as one run).

use serde::{Deserialize, Serialize};

use crate::train::EpochReport;

/// File name of the per-epoch log inside a model folder.
pub const LOG_FILE: &str = "metrics.jsonl";

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// The soup member the epoch belongs to (1-based); absent in a trained model's own log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<usize>,
    #[serde(flatten)]
    pub epoch: EpochReport,
}

/// The log's epochs, grouped by run in order of appearance: one group for a trained model, one
/// per member for a soup. Lines that are not epochs are skipped.
pub fn runs_in_log(text: &str) -> Vec<(Option<usize>, Vec<EpochReport>)> {
    let mut runs: Vec<(Option<usize>, Vec<EpochReport>)> = Vec::new();
    for line in text.lines().filter_map(|line| serde_json::from_str::<LogLine>(line).ok()) {
        match runs.iter_mut().find(|(run, _)| *run == line.run) {
            Some((_, epochs)) => epochs.push(line.epoch),
            None => runs.push((line.run, vec![line.epoch])),
        }
    }
    runs
}

/// A soup's log from its members' logs, in member order (a member without a log adds nothing).
pub fn soup_log(member_logs: &[Option<String>]) -> String {
    let mut out = String::new();
    for (i, text) in member_logs.iter().enumerate() {
        let epochs = text.iter().flat_map(|t| runs_in_log(t)).flat_map(|(_, epochs)| epochs);
        for epoch in epochs {
            let line = LogLine { run: Some(i + 1), epoch };
            out += &(serde_json::to_string(&line).expect("an epoch serialises") + "\n");
        }
    }
    out
}
