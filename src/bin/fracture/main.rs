//! `fracture`: train, evaluate and publish the fracture classifiers on this machine.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
mod combine;
#[cfg(not(target_arch = "wasm32"))]
mod cv;
#[cfg(not(target_arch = "wasm32"))]
mod evaluate;
#[cfg(not(target_arch = "wasm32"))]
mod export;
#[cfg(not(target_arch = "wasm32"))]
mod finetune;
#[cfg(not(target_arch = "wasm32"))]
mod gallery;
#[cfg(not(target_arch = "wasm32"))]
mod progress;
#[cfg(not(target_arch = "wasm32"))]
mod publish;
#[cfg(not(target_arch = "wasm32"))]
mod recipe;
#[cfg(not(target_arch = "wasm32"))]
mod soup;
#[cfg(not(target_arch = "wasm32"))]
mod train;
#[cfg(not(target_arch = "wasm32"))]
mod validation;
#[cfg(not(target_arch = "wasm32"))]
mod views;

#[cfg(not(target_arch = "wasm32"))]
use clap::{Parser, Subcommand, ValueEnum};

#[cfg(not(target_arch = "wasm32"))]
#[derive(Parser)]
#[command(name = "fracture", version, about = "Bone fracture classification on X-rays with Burn")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Subcommand)]
enum Command {
    /// Train a model from a folder of class folders (defaults: the reference notebook's).
    Train(train::TrainArgs),
    /// Fine-tune a trained model on a folder of class folders (the page's fine-tuning, here).
    Finetune(finetune::FineTuneArgs),
    /// Group-disjoint k-fold cross-validation of a training recipe (the honest figures).
    Cv(cv::CvArgs),
    /// Score ensembles and soups of `cv` runs on their folds, without retraining.
    Combine(combine::CombineArgs),
    /// Average several trained models' weights into one model folder (a soup).
    Soup(soup::SoupArgs),
    /// Average a model's answers over test-time views of each image; refits its temperature.
    Views(views::ViewsArgs),
    /// Score a trained model on a folder of class folders.
    Evaluate(evaluate::EvaluateArgs),
    /// Write a model as ONNX and as layers.json + weights.bin, for the benchmarks' peers.
    Export(export::ExportArgs),
    /// Thumbnails of a model's training and validation X-rays with its predictions (gallery.json).
    Gallery(gallery::GalleryArgs),
    /// Gather training runs into a shipped model's card and write public/models/index.json.
    Publish(publish::PublishArgs),
}

/// Where the tensors live.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone, Copy, ValueEnum)]
pub enum Backend {
    /// Burn's flex backend on the CPU (im2col + gemm on all cores; the fastest CPU choice natively).
    Flex,
    /// Burn's ndarray backend on the CPU (the page's CPU fallback).
    Cpu,
    /// Burn's wgpu backend (Vulkan, Metal or DX12; Mesa's software Vulkan works too).
    Wgpu,
}

#[cfg(not(target_arch = "wasm32"))]
impl Backend {
    /// Opens the device.
    pub fn device(self) -> Result<burn::tensor::Device, String> {
        match self {
            // Deprecated in Burn 0.22 in favour of `flex`; ndarray is still this project's CPU backend.
            #[allow(deprecated)]
            Backend::Cpu => Ok(burn::tensor::Device::ndarray()),
            Backend::Flex => Ok(burn::tensor::Device::flex()),
            Backend::Wgpu => burn::tensor::Device::wgpu_options()
                .init()
                .map_err(|e| format!("no usable wgpu device ({e}); use `--backend cpu`")),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let result = match Cli::parse().command {
        Command::Train(args) => train::run(args),
        Command::Finetune(args) => finetune::run(args),
        Command::Cv(args) => cv::run(args),
        Command::Combine(args) => combine::run(args),
        Command::Evaluate(args) => evaluate::run(args),
        Command::Views(args) => views::run(args),
        Command::Soup(args) => soup::run(args),
        Command::Export(args) => export::run(args),
        Command::Gallery(args) => gallery::run(args),
        Command::Publish(args) => publish::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
