#![no_std]
// This file exists to give the crate a library target, which `tracer-user` depends on so that
// cargo rebuilds the object when this crate changes.
