use deq_kernels::activation::gauss::*;
fn main() {
    let s2 = 0.9f64.sqrt();
    let rho = 0.999999f64;
    let r = (1.0 - rho * rho).sqrt();
    for x1 in [-3.0, -1.0, 0.0, 0.5, 2.0, 5.0] {
        let t = std::time::Instant::now();
        let mean = s2 * rho * x1;
        let sd = s2 * r;
        let v = expect(|x2| (mean + sd * x2).tanh(), &[]);
        println!("x1={x1} inner={v} {:?}", t.elapsed());
    }
}
