//! `deqk koopman`: the Koopman spectrum of a DEQ's iteration (math §10) — the augmented map of a linear DEQ, or
//! EDMD of a tanh DEQ — as JSON and in the complex plane.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use deq_kernels::output::refuse_existing;
use deq_kernels::plot::complex_plane;
use deq_kernels::sim::koopman::{general_eigenvalues, Dictionary, LinearDeq, TanhDeq};
use deq_kernels::Error;

use super::print;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KoopmanModel {
    /// z ← γAz + Bx: the augmented map [[γA, B], [0, I]] and its λ = 1 projection.
    LinearDeq,
    /// z ← tanh(Wz + Ux + b), ‖W‖₂ = γ: EDMD of the iteration at a random x.
    TanhDeq,
}

#[derive(Args)]
pub struct KoopmanArgs {
    #[arg(long, value_enum, default_value = "linear-deq")]
    model: KoopmanModel,
    /// State dimension d_z.
    #[arg(long, default_value_t = 6)]
    dz: usize,
    /// Input dimension d_x.
    #[arg(long, default_value_t = 2)]
    dx: usize,
    /// γ: the scale of A (linear; ρ(γA) ≤ γ) or ‖W‖₂ (tanh). Must be in (0, 1).
    #[arg(long, default_value_t = 0.8)]
    gamma: f64,
    /// Linear model: replace the first 2×2 block of γA by a rotation by this angle (eigenvalues on the unit
    /// circle; Mᵗ no longer converges, its Cesàro mean does).
    #[arg(long, allow_negative_numbers = true)]
    rotation: Option<f64>,
    /// Tanh model: the EDMD dictionary, monomials:Q (total degree ≤ Q) or fourier:F (F random cosines with
    /// bandwidth 1, plus the constant and the coordinates).
    #[arg(long, default_value = "monomials:2")]
    dictionary: String,
    /// Tanh model: snapshot pairs.
    #[arg(long, default_value_t = 400)]
    samples: usize,
    /// Tanh model: the spread of the snapshots around z*.
    #[arg(long, default_value_t = 0.1)]
    spread: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// The spectrum in the complex plane with the unit circle (.png or .svg).
    #[arg(long)]
    plot: Option<PathBuf>,
    #[arg(long)]
    force: bool,
    #[arg(long)]
    json: bool,
}

fn dictionary(spec: &str, dim: usize, seed: u64) -> Result<Dictionary, Error> {
    let bad = || Error::UnknownName {
        what: "EDMD dictionary",
        name: spec.into(),
        known: "monomials:Q with a degree Q ≥ 1, fourier:F with F ≥ 1 features".into(),
    };
    let (kind, count) = spec.split_once(':').ok_or_else(bad)?;
    let count: usize = count.trim().parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(bad());
    }
    match kind.trim() {
        "monomials" => Ok(Dictionary::Monomials { degree: count }),
        "fourier" => Dictionary::fourier(dim, count, 1.0, seed),
        _ => Err(bad()),
    }
}

/// Complex numbers as [re, im] pairs.
fn pairs(values: &[(f64, f64)]) -> Vec<[f64; 2]> {
    values.iter().map(|&(re, im)| [re, im]).collect()
}

pub fn koopman(args: KoopmanArgs) -> Result<(), Error> {
    if let Some(plot) = &args.plot {
        refuse_existing(&[plot], args.force)?;
    }
    if !(args.gamma > 0.0 && args.gamma < 1.0) {
        return Err(Error::InvalidParameter {
            name: "gamma",
            value: args.gamma,
            requirement: "must lie in (0, 1) so that the iteration contracts",
        });
    }
    let (value, eigenvalues, title) = match args.model {
        KoopmanModel::LinearDeq => {
            let deq = LinearDeq::random(args.dz, args.dx, args.gamma, args.rotation, args.seed)?;
            let eigenvalues = general_eigenvalues(deq.augmented().view())?;
            let report = deq.projection_report(8, args.seed + 1)?;
            let value = json!({
                "model": "linear-deq", "dz": args.dz, "dx": args.dx, "gamma": args.gamma,
                "rotation": args.rotation, "spectral_radius": deq.spectral_radius()?,
                "eigenvalues": pairs(&eigenvalues),
                "projection_error": report.projection_error,
                "fixed_point_error": report.fixed_point_error,
            });
            (value, eigenvalues, "Augmented map of a linear DEQ")
        }
        KoopmanModel::TanhDeq => {
            let deq = TanhDeq::random(args.dz, args.dx, args.gamma, args.seed)?;
            let x = deq.random_input(args.seed + 1);
            let dict = dictionary(&args.dictionary, args.dz, args.seed + 2)?;
            let report =
                deq.edmd_report(x.view(), &dict, args.samples, args.spread, args.seed + 3)?;
            let value = json!({
                "model": "tanh-deq", "dz": args.dz, "dx": args.dx, "gamma": args.gamma,
                "dictionary": args.dictionary, "dictionary_size": report.fit.matrix.nrows(),
                "samples": args.samples, "spread": args.spread,
                "eigenvalues": pairs(&report.fit.eigenvalues),
                "jacobian_eigenvalues": pairs(&report.jacobian_eigenvalues),
                "multiplicity_of_one": report.fit.multiplicity_of_one(1e-8),
                "fixed_point_error": report.fixed_point_error,
            });
            (value, report.fit.eigenvalues, "EDMD of a tanh DEQ")
        }
    };
    let drawn = match &args.plot {
        Some(path) => {
            Some(complex_plane(path, title, &[("eigenvalues", &eigenvalues)], args.force)?.path)
        }
        None => None,
    };
    let mut value = value;
    value["plot"] = json!(drawn);
    print(args.json, &value, || {
        let top: Vec<String> = eigenvalues
            .iter()
            .take(6)
            .map(|&(re, im)| format!("{re:.6}{im:+.6}i"))
            .collect();
        format!(
            "{title}: {} eigenvalues, largest {}; fixed-point error {:.3e}{}{}",
            eigenvalues.len(),
            top.join(", "),
            value["fixed_point_error"].as_f64().unwrap_or(f64::NAN),
            value["projection_error"]
                .as_f64()
                .map_or(String::new(), |e| format!(", projection error {e:.3e}")),
            drawn
                .as_ref()
                .map_or(String::new(), |p| format!("; wrote {p}"))
        )
    });
    Ok(())
}
