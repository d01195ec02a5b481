//! The library's integration tests, one module per subject, linked into one test binary: each module checks a
//! part of the public API against an independent computation (closed forms, quadrature, reference values,
//! Monte-Carlo with stated tolerances, another backend).

mod common;

mod blocks;

mod delm;
mod design;
mod equivalents;
mod explicit_kernels;
mod finite_width;
mod identities;
mod implicit_kernels;
mod koopman;
mod many_samples;
mod nt_reference;
mod reference_values;
mod sim;
mod sim_kernel;
mod solvers;
