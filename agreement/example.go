package agreement

import _ "embed"

// Example is the commented example agreement built on seed 003 (MQL =
// registered for a webinar and watched it; SQL = downloaded the price list
// and started a trial). It documents the format and seeds the demo.
//
//go:embed agreement-example.yaml
var Example []byte
