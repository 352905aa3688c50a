//! Where EfficientNet-Lite0's CPU time goes on Burn's flex backend: each kind of layer at the
//! sizes the network sees on a 256x256 input, and the activation functions, one core.
//! `RAYON_NUM_THREADS=1 cargo run --release --example profile_layers` (the browser's flex is
//! single-threaded). It showed ReLU6 (`clamp`) costing 10x an add, hence
//! `efficientnet::relu6` as `relu` + `clamp_max`, and 1x1 convolutions already as fast as a
//! plain matrix product.

use burn::nn::conv::Conv2dConfig;
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use std::time::Instant;

/// Mean of 5 runs after one warm-up, printed in ms.
fn time(name: &str, f: impl Fn() -> Tensor<4>) {
    let _ = f().into_data();
    let t = Instant::now();
    let n = 5;
    for _ in 0..n {
        let _ = f().into_data();
    }
    println!("{name:50} {:8.2} ms", t.elapsed().as_secs_f64() * 1000.0 / n as f64);
}

fn main() {
    let device = Device::flex();
    // (channels in, channels out, side, kernel, stride, groups)
    let cases = [
        ("stem 3->32 k3 s2 @256", 3, 32, 256, 3, 2, 1),
        ("b0 dw 32 k3 @128", 32, 32, 128, 3, 1, 32),
        ("b0 proj 32->16 @128", 32, 16, 128, 1, 1, 1),
        ("b1 expand 16->96 @128", 16, 96, 128, 1, 1, 1),
        ("b1 dw 96 k3 s2 @128", 96, 96, 128, 3, 2, 96),
        ("b2 expand 24->144 @64", 24, 144, 64, 1, 1, 1),
        ("b2 dw 144 k3 @64", 144, 144, 64, 3, 1, 144),
        ("b2 proj 144->24 @64", 144, 24, 64, 1, 1, 1),
        ("b3 dw 144 k5 s2 @64", 144, 144, 64, 5, 2, 144),
        ("b4 dw 240 k5 @32", 240, 240, 32, 5, 1, 240),
        ("b4 expand 40->240 @32", 40, 240, 32, 1, 1, 1),
        ("b10 dw 672 k5 @16", 672, 672, 16, 5, 1, 672),
        ("head 320->1280 @8", 320, 1280, 8, 1, 1, 1),
    ];
    for (name, cin, cout, side, k, s, g) in cases {
        let conv = Conv2dConfig::new([cin, cout], [k, k])
            .with_stride([s, s])
            .with_groups(g)
            .with_padding(PaddingConfig2d::Same)
            .init(&device);
        let x = Tensor::<4>::random([1, cin, side, side], burn::tensor::Distribution::Default, &device);
        time(name, || conv.forward(x.clone()));
    }
    for (cin, cout, side) in [(16usize, 96usize, 128usize), (144, 24, 64), (40, 240, 32), (320, 1280, 8)] {
        let w = Tensor::<2>::random([cout, cin], burn::tensor::Distribution::Default, &device);
        let x = Tensor::<4>::random([1, cin, side, side], burn::tensor::Distribution::Default, &device);
        time(&format!("matmul 1x1 {cin}->{cout} @{side}"), || {
            w.clone().matmul(x.clone().reshape([cin, side * side])).reshape([1, cout, side, side])
        });
        let conv = Conv2dConfig::new([cin, cout], [1, 1]).init(&device);
        time(&format!("conv 1x1 {cin}->{cout} @{side}"), || conv.forward(x.clone()));
    }
    let x = Tensor::<4>::random([1, 96, 128, 128], burn::tensor::Distribution::Default, &device);
    time("relu6 96@128", || burn::tensor::activation::relu6(x.clone()));
    time("add 96@128", || x.clone() + x.clone());
    time("relu 96@128", || burn::tensor::activation::relu(x.clone()));
    time("clamp_min.clamp_max 96@128", || x.clone().clamp_min(0.0).clamp_max(6.0));
    time("relu.clamp_max 96@128", || burn::tensor::activation::relu(x.clone()).clamp_max(6.0));
    time("mul_scalar 96@128", || x.clone().mul_scalar(2.0));
}
