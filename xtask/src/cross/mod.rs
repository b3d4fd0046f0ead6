//! `cargo xtask cross`: the test suite and the on-target checks on every
//! target freestep supports.
pub mod fixtures;

pub fn run(args: &[String]) -> Result<(), String> {
    if args.iter().any(|a| a == "--write-fixtures") {
        return fixtures::write();
    }
    fixtures::check()
}
