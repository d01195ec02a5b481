//! `deqk design`: the explicit network whose equivalent CK or NTK equals a DEQ's (math §7).

use clap::{Args, ValueEnum};
use serde_json::{json, Map, Value};

use deq_kernels::activation::Activation;
use deq_kernels::design::{deq_targets, family_by_name, match_family, MatchParams};
use deq_kernels::kernel::implicit::DeqParams;
use deq_kernels::kernel::Kernel;
use deq_kernels::Error;

use super::{activation, print};

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Family {
    /// Two centered L-ReLU layers (a1 b1 a2 b2).
    Lrelu2,
    /// Three L-ReLU layers (a1 b1 a2 b2 a3 b3), for the NTK with the input layer frozen.
    Lrelu3,
    /// One hard-tanh layer (a c), for odd activations.
    Hardtanh,
    /// Two centered quadratic layers (c1 c2 d1 d2).
    Quadratic,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DesignKind {
    Ck,
    Ntk,
}

#[derive(Args)]
pub struct DesignArgs {
    /// The DEQ's activation.
    #[arg(long)]
    activation: String,
    #[arg(long, default_value_t = 0.2, allow_negative_numbers = true)]
    sigma_a2: f64,
    /// Default 1 − σ_a².
    #[arg(long, allow_negative_numbers = true)]
    sigma_b2: Option<f64>,
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    tau0: f64,
    #[arg(long, value_enum)]
    family: Family,
    #[arg(long, value_enum)]
    kind: DesignKind,
    /// NTK of an L-ReLU family with the input layer trained (β₀ = (1, 0, 0)) instead of frozen.
    #[arg(long)]
    train_first_layer: bool,
    /// Random starting points of the search.
    #[arg(long, default_value_t = 64)]
    starts: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long)]
    json: bool,
}

pub fn design(args: DesignArgs) -> Result<(), Error> {
    let act = activation(&args.activation)?;
    let kind = match args.kind {
        DesignKind::Ck => Kernel::Ck,
        DesignKind::Ntk => Kernel::Ntk,
    };
    let name = match args.family {
        Family::Lrelu2 => "lrelu2",
        Family::Lrelu3 => "lrelu3",
        Family::Hardtanh => "hardtanh",
        Family::Quadratic => "quadratic",
    };
    let family = family_by_name(name, args.train_first_layer)?;
    let deq = match args.sigma_b2 {
        Some(b2) => DeqParams::with_variances(act.clone(), args.sigma_a2, b2)?,
        None => DeqParams::new(act.clone(), args.sigma_a2)?,
    }
    .with_tau0(args.tau0)?;
    let sb2 = deq.sigma_b2();
    let targets = deq_targets(&deq, kind)?;
    let params = MatchParams::new(args.starts, args.seed, 1e-10)?;
    let r = match_family(family.as_ref(), &targets, args.tau0, kind, &params)?;
    let named = |p: &[f64]| -> Value {
        let mut m = Map::new();
        for (n, v) in r.parameter_names.iter().zip(p) {
            m.insert((*n).to_string(), json!(v));
        }
        Value::Object(m)
    };
    let solutions: Vec<Value> = r
        .solutions
        .iter()
        .map(|s| json!({"params": named(&s.params), "residual": s.residual}))
        .collect();
    let mut value = json!({
        "activation": act.name(), "sigma_a2": args.sigma_a2, "sigma_b2": sb2, "tau0": args.tau0,
        "family": r.family, "kind": kind.name(),
        "first_layer": family.first_layer(),
        "targets": {"c1": targets.c1, "c2": targets.c2, "c3": targets.c3, "c0": targets.c0},
        "matched": r.matched, "feasible": r.feasible, "solutions": solutions, "starts": r.starts,
    });
    if let Some(reason) = &r.reason {
        value["reason"] = json!(reason);
    }
    if let Some(best) = &r.best {
        value["best"] = json!({"params": named(&best.params), "residual": best.residual});
    }
    print(args.json, &value, || {
        if r.feasible {
            let mut s = format!(
                "{} solution(s) for {} ({}):",
                r.solutions.len(),
                r.family,
                act.name()
            );
            for sol in &r.solutions {
                let p: Vec<String> = r
                    .parameter_names
                    .iter()
                    .zip(&sol.params)
                    .map(|(n, v)| format!("{n} = {v:.6}"))
                    .collect();
                s.push_str(&format!(
                    "\n  {}  (residual {:.1e})",
                    p.join(", "),
                    sol.residual
                ));
            }
            s
        } else {
            format!("infeasible: {}", r.reason.as_deref().unwrap_or(""))
        }
    });
    Ok(())
}
