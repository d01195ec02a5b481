//! `cargo run -p downstream-example --release`: the study of `implicit_ntk_study` on two clouds in dimension 400.

fn main() -> deq_kernels::Result<()> {
    let (x, y) = downstream_example::two_clouds(200, 400);
    let (top, error) = downstream_example::implicit_ntk_study(&x, &y)?;
    println!("largest eigenvalues of K*: {:.4?}", &top[top.len() - 3..]);
    println!("‖K̄ − K*‖₂/‖K*‖₂ = {error:.3e}");
    Ok(())
}
