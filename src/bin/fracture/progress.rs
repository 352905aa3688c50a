//! The command line's training progress: a bar on stderr and one JSON line per epoch.

use std::io::Write;

use bone_fracture::model::Classifier;
use bone_fracture::train::{BatchReport, EpochReport, Evaluation, TrainError, TrainObserver};
use indicatif::{ProgressBar, ProgressStyle};

/// Progress bar on stderr and one JSON line per epoch in `metrics.jsonl`.
pub struct Progress<'a> {
    pub bar: ProgressBar,
    log: std::fs::File,
    watch: Option<Watch<'a>>,
}

/// Scores a model on images the run neither trains nor picks its epoch on.
type Scorer<'a> = Box<dyn FnMut(&Classifier) -> Result<Evaluation, TrainError> + 'a>;

/// Scores each epoch's model and logs the scores.
struct Watch<'a> {
    score: Scorer<'a>,
    log: std::fs::File,
}

/// One line of `held-out.jsonl`.
#[derive(serde::Serialize)]
struct HeldOutLine {
    epoch: usize,
    top1: f64,
    top3: f64,
    loss: f64,
}

impl<'a> Progress<'a> {
    /// A bar of `steps` batches, logging epochs to `out/metrics.jsonl`.
    pub fn new(out: &std::path::Path, steps: usize) -> Result<Self, String> {
        let path = out.join(bone_fracture::store::LOG_FILE);
        let log = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let bar = ProgressBar::new(steps as u64).with_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} batches · {elapsed} elapsed, ~{eta} left · {msg}")
                .expect("a valid progress template"),
        );
        Ok(Progress { bar, log, watch: None })
    }

    /// Also scores every epoch's model with `score`, writing `out/held-out.jsonl`. Only for
    /// study: the run's choices never see these scores.
    pub fn watch(
        mut self,
        out: &std::path::Path,
        score: impl FnMut(&Classifier) -> Result<Evaluation, TrainError> + 'a,
    ) -> Result<Self, String> {
        let path = out.join("held-out.jsonl");
        let log = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        self.watch = Some(Watch { score: Box::new(score), log });
        Ok(self)
    }
}

impl TrainObserver for Progress<'_> {
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

    fn on_epoch_model(&mut self, epoch: usize, model: &Classifier) {
        let Some(watch) = &mut self.watch else { return };
        let e = match (watch.score)(model) {
            Ok(e) => e,
            Err(err) => return self.bar.println(format!("warning: could not score epoch {epoch} on the held-out images: {err}")),
        };
        let line = HeldOutLine { epoch, top1: e.accuracy, top3: e.top3_accuracy, loss: e.loss };
        if let Err(err) = writeln!(watch.log, "{}", serde_json::to_string(&line).expect("a line serialises")) {
            self.bar.println(format!("warning: could not write held-out.jsonl: {err}"));
        }
    }
}
