use deq_kernels::activation::*;
use std::time::Instant;
fn main() {
    for name in ["tanh", "hardtanh:0.7,1.1", "elu:0.8", "gelu"] {
        let a = parse_activation(name).unwrap();
        for rho in [0.5, 0.999999, 1.0 - 1e-12, -1.0] {
            let c = Cov2::new(1.1, 0.9, rho * (1.1f64 * 0.9).sqrt()).unwrap();
            let t = Instant::now();
            let k = dual_kernel(&a, &c);
            let kd = dual_kernel_derivative(&a, &c).unwrap();
            let el = t.elapsed();
            // Mehler with many terms
            let s1 = 1.1f64.sqrt();
            let s2 = 0.9f64.sqrt();
            let h1 = hermite_coefficients(&a, s1, 400).unwrap();
            let h2 = hermite_coefficients(&a, s2, 400).unwrap();
            let d1 = hermite_coefficients_derivative(&a, s1, 400).unwrap();
            let d2 = hermite_coefficients_derivative(&a, s2, 400).unwrap();
            let m: f64 = (0..400).map(|i| h1[i] * h2[i] * rho.powi(i as i32)).sum();
            let md: f64 = (0..400).map(|i| d1[i] * d2[i] * rho.powi(i as i32)).sum();
            println!("{name} rho={rho}: quad k={k:.15} kd={kd:.15} ({el:?}) mehler400 k={m:.15} kd={md:.15}");
        }
    }
}
