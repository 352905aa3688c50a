//! The command line's training progress: a bar on stderr and one JSON line per epoch.

use std::io::Write;

use bone_fracture::train::{BatchReport, EpochReport, TrainObserver};
use indicatif::{ProgressBar, ProgressStyle};

/// Progress bar on stderr and one JSON line per epoch in `metrics.jsonl`.
pub struct Progress {
    pub bar: ProgressBar,
    log: std::fs::File,
}

impl Progress {
    /// A bar of `steps` batches, logging epochs to `out/metrics.jsonl`.
    pub fn new(out: &std::path::Path, steps: usize) -> Result<Self, String> {
        let path = out.join("metrics.jsonl");
        let log = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bar = ProgressBar::new(steps as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} batches · {elapsed} elapsed, ~{eta} left · {msg}")
                .expect("a valid progress template"),
        );
        Ok(Progress { bar, log })
    }
}

impl TrainObserver for Progress {
    fn on_batch(&mut self, r: &BatchReport) {
        self.bar.inc(1);
        self.bar.set_message(format!(
            "epoch {} · loss {:.3} · acc {:.2} · {:.1} img/s",
            r.epoch, r.loss, r.accuracy, r.images_per_second
        ));
    }

    fn on_epoch(&mut self, r: &EpochReport) {
        let line = format!(
            "epoch {:>2}: train loss {:.4} acc {:.4} | valid loss {:.4} acc {:.4} top-3 {:.4} | {:.0} s, {:.1} img/s{}",
            r.epoch,
            r.train_loss,
            r.train_accuracy,
            r.valid_loss,
            r.valid_accuracy,
            r.valid_top3_accuracy,
            r.seconds,
            r.images_per_second,
            if r.best { "  (best so far)" } else { "" }
        );
        // A hidden bar (stderr is not a terminal) drops `println`, so print directly.
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
        let line = serde_json::to_string(r).expect("an epoch report serialises");
        if let Err(e) = writeln!(self.log, "{line}") {
            self.bar.println(format!("warning: could not write metrics.jsonl: {e}"));
        }
    }
}
