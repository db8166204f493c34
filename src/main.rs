fn main() {
    eprintln!("vrrpd: not yet");
    std::process::exit(1);
}
