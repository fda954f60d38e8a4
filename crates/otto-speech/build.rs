//! Links the system flite libraries (Debian `libflite1`, `flite1-dev`) for the FFI in `src/tts/flite.rs`.
fn main() {
    for lib in [
        "flite_cmu_us_kal",
        "flite_cmu_us_slt",
        "flite_usenglish",
        "flite_cmulex",
        "flite",
    ] {
        println!("cargo:rustc-link-lib={lib}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
