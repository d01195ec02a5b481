//! Link ScaLAPACK (with BLACS) for OpenMPI, found through pkg-config; a missing library stops the build with
//! the package that provides it.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    probe(
        "scalapack-openmpi",
        "ScaLAPACK for OpenMPI (Debian: apt-get install libscalapack-openmpi-dev openmpi-bin libopenmpi-dev pkg-config)",
    );
}

fn probe(name: &str, install: &str) {
    if let Err(e) = pkg_config::Config::new().probe(name) {
        panic!("\n\ndeq-distributed needs {install}.\npkg-config could not find `{name}`: {e}\n");
    }
}
