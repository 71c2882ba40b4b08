module tdev.local/tctl-build

go 1.22

require github.com/temporalio/tctl v1.18.0
