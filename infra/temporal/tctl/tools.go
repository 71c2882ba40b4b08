//go:build tools

package tools

import _ "github.com/temporalio/tctl/cmd/tctl"
