//! `fracture gallery`: thumbnails of a shipped model's training and validation X-rays, and the
//! model's probabilities for every validation one, in `gallery.json` beside its weights — the
//! images behind the page's analysis views.

use std::path::{Path, PathBuf};

use bone_fracture::classes::FractureClass;
use bone_fracture::data::{decode_xray_framed, parse_split_csv, Part, SplitRow, Xray, SPLIT_FILE};
use bone_fracture::store::{load_model_dir, Gallery, Predicted, Thumbnail, GALLERY_FILE};
use bone_fracture::train::calibration::apply_all;
use bone_fracture::train::predict_views;
use clap::Args;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use sha2::{Digest, Sha256};

use crate::Backend;

#[derive(Args)]
pub struct GalleryArgs {
    /// Model folder with model.json, model.bpk and the split.csv of its training run.
    #[arg(long)]
    model: PathBuf,
    /// The folder of class folders the model was trained on.
    #[arg(long)]
    data: PathBuf,
    /// Folder of the thumbnails, directly under the page's public/ folder (shared by models
    /// trained on the same split).
    #[arg(long, default_value = "public/gallery")]
    thumbnails: PathBuf,
    /// Training images shown per class.
    #[arg(long, default_value_t = 4)]
    per_class: usize,
    /// Longest side of a thumbnail, in pixels.
    #[arg(long, default_value_t = 160)]
    size: u32,
    /// Images per forward pass; with the card's test-time views each image's views are one pass.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
}

pub fn run(args: GalleryArgs) -> Result<(), String> {
    let device = args.backend.device()?;
    let (card, model) = load_model_dir(&args.model, &device).map_err(|e| e.to_string())?;
    let path = args.model.join(SPLIT_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = parse_split_csv(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::create_dir_all(&args.thumbnails).map_err(|e| format!("{}: {e}", args.thumbnails.display()))?;
    let thumbnail = |row: &SplitRow| -> Result<(Thumbnail, Vec<u8>), String> {
        let path = args.data.join(row.class.folder_name()).join(&row.file);
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let url = write_thumbnail(&bytes, &args.thumbnails, args.size).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok((Thumbnail { class: row.class, file: row.file.clone(), thumbnail: url }, bytes))
    };

    let mut training = Vec::new();
    for class in FractureClass::ALL {
        for row in pick_training(&rows, class, args.per_class) {
            training.push(thumbnail(row)?.0);
        }
    }

    let mut images = Vec::new();
    let mut xrays: Vec<Xray> = Vec::new();
    for row in rows.iter().filter(|r| r.part == Part::Valid) {
        let (image, bytes) = thumbnail(row)?;
        xrays.push(decode_xray_framed(&bytes, card.input.framing).map_err(|e| format!("{}: {e}", row.file))?);
        images.push(image);
    }
    let refs: Vec<&Xray> = xrays.iter().collect();
    let raw =
        pollster::block_on(predict_views(&model, &refs, card.views, args.batch_size, &device)).map_err(|e| e.to_string())?;
    let temperature = card.calibration.as_ref().map_or(1.0, |c| c.temperature);
    let validation = images
        .into_iter()
        .zip(apply_all(&raw, temperature))
        .map(|(image, probabilities)| Predicted { image, probabilities })
        .collect();
    let gallery = Gallery { training, validation };

    // The card's metrics were measured on the f32 weights at the end of training; the shipped
    // file holds them in f16, which can move a near-tie. Say how far apart the two are.
    let split = serde_json::to_value(card.training.split).expect("split serialises").as_str().unwrap_or("").to_string();
    let recomputed = gallery.validation_metrics();
    match card.metrics.get(&split) {
        Some(run) if run.validation.n != recomputed.n => {
            return Err(format!(
                "split.csv has {} validation images but the card's {split}-split metrics count {}; \
                 was the model retrained without its split.csv?",
                recomputed.n, run.validation.n
            ))
        }
        Some(run) => {
            let moved = recomputed.answers_moved(&run.validation);
            if moved > 0 {
                eprintln!(
                    "note: {moved} of {} validation images change their first choice between the card's f32 \
                     metrics and the shipped weights (accuracy {:.4} → {:.4}); the gallery holds the shipped weights'",
                    recomputed.n, run.validation.accuracy, recomputed.accuracy
                );
            }
        }
        None => eprintln!("warning: the card has no {split}-split metrics to check the predictions against"),
    }

    let out = args.model.join(GALLERY_FILE);
    let json = serde_json::to_string_pretty(&gallery).expect("the gallery serialises");
    std::fs::write(&out, json + "\n").map_err(|e| format!("{}: {e}", out.display()))?;
    println!(
        "{}: {} training and {} validation thumbnails in {}; validation accuracy {:.4}",
        out.display(),
        gallery.training.len(),
        gallery.validation.len(),
        args.thumbnails.display(),
        recomputed.accuracy
    );
    Ok(())
}

/// `count` training rows of `class` from distinct near-duplicate groups, in an order fixed by
/// the file names' hashes (a spread over the folder, the same on every run).
fn pick_training(rows: &[SplitRow], class: FractureClass, count: usize) -> Vec<&SplitRow> {
    let mut candidates: Vec<&SplitRow> = rows.iter().filter(|r| r.part == Part::Train && r.class == class).collect();
    candidates.sort_by_key(|r| Sha256::digest(r.file.as_bytes()));
    let mut picked: Vec<&SplitRow> = Vec::new();
    for row in candidates {
        if picked.len() < count && !picked.iter().any(|p| p.group == row.group) {
            picked.push(row);
        }
    }
    picked
}

/// Writes `bytes`' image, shrunk to at most `size` pixels a side, as a JPEG named by its
/// content's hash; returns its path relative to the page.
fn write_thumbnail(bytes: &[u8], dir: &Path, size: u32) -> Result<String, String> {
    let hash = Sha256::digest(bytes);
    let name = format!("{}.jpg", hash.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>());
    let path = dir.join(&name);
    if !path.exists() {
        let image = image::load_from_memory(bytes).map_err(|e| e.to_string())?;
        let small = image.resize(size, size, FilterType::Triangle).to_rgb8();
        let mut jpeg = Vec::new();
        small.write_with_encoder(JpegEncoder::new_with_quality(&mut jpeg, 80)).map_err(|e| e.to_string())?;
        std::fs::write(&path, jpeg).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or("gallery");
    Ok(format!("{folder}/{name}"))
}
