//! The built binary as a Lambda function, against the loopback Runtime API and moto.
