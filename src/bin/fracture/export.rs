//! `fracture export`: a model folder as ONNX and as `layers.json` + `weights.bin` (for the
//! benchmarks' TensorFlow.js peer), with one preprocessed image and Burn's logits for it, so
//! that other runtimes can be checked against this one.

use std::path::PathBuf;

use bone_fracture::data::{decode_xray_framed, images_to_tensor};
use bone_fracture::export::{f32_le_bytes, graph, layers, onnx};
use bone_fracture::store::load_model_dir;
use clap::Args;

use crate::Backend;

#[derive(Args)]
pub struct ExportArgs {
    /// Model folder with model.json and model.bpk.
    #[arg(long)]
    model: PathBuf,
    /// An image to write as `input.bin` (the network's preprocessed input) with Burn's logits
    /// for it in `reference.json`.
    #[arg(long)]
    image: PathBuf,
    /// Output folder: model.onnx, layers.json, weights.bin, input.bin, reference.json.
    #[arg(long)]
    out: PathBuf,
    #[arg(long, value_enum, default_value = "flex")]
    backend: Backend,
}

pub fn run(args: ExportArgs) -> Result<(), String> {
    let device = args.backend.device()?;
    let (card, model) = load_model_dir(&args.model, &device).map_err(|e| e.to_string())?;
    let graph = graph(&model)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = args.out.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    };
    write("model.onnx", &onnx::write(&graph))?;
    let (json, weights) = layers::write(&graph);
    write("layers.json", json.as_bytes())?;
    write("weights.bin", &weights)?;

    let bytes = std::fs::read(&args.image).map_err(|e| format!("{}: {e}", args.image.display()))?;
    let xray = decode_xray_framed(&bytes, card.input.framing).map_err(|e| format!("{}: {e}", args.image.display()))?;
    let input = images_to_tensor([&xray], &device);
    let values = input.clone().into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    write("input.bin", &f32_le_bytes(&values))?;
    let logits = model.forward(input).into_data().try_to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    let reference = serde_json::json!({
        "model": card.id, "architecture": graph.name, "image": args.image.file_name().map(|n| n.to_string_lossy()),
        "input_shape": [1, 3, graph.side, graph.side], "logits": logits, "backend": format!("{:?}", device),
    });
    write("reference.json", serde_json::to_string_pretty(&reference).expect("JSON").as_bytes())?;
    println!("{} → {} ({} ops)", args.model.display(), args.out.display(), graph.ops.len());
    Ok(())
}
