//! The `ferry` binary: parses the command line and hands over to the library.
//! All behaviour lives in the library so that tests drive exactly what ships.

fn main() -> std::process::ExitCode {
    ferry::cli::main()
}
