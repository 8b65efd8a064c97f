//go:build windows

package main

import (
	"fmt"
	"io"
	"path"

	"otrace/collectors/etw"
)

// listTracefs is false: Windows has no tracefs, software events or
// uprobes.
const listTracefs = false

// platformProbes lists the ETW kernel events and every registered
// provider (TdhEnumerateProviders), as etw:kernel:NAME and etw:PROVIDER.
func platformProbes(glob string, fields bool, stderr io.Writer) ([]probeInfo, error) {
	var out []probeInfo
	for _, name := range etw.KernelNames() {
		if ok, _ := path.Match(glob, name); !ok {
			continue
		}
		p := probeInfo{Name: name, Kind: "etw", Help: etw.KernelHelp(name)}
		if fields {
			f, err := etw.KernelFormat(name)
			if err != nil {
				return nil, err
			}
			p.Fields = describeFields(f)
		}
		out = append(out, p)
	}
	provs, err := etw.Providers()
	if err != nil {
		fmt.Fprintf(stderr, "otrace: ETW providers not listed: %v\n", err)
		return out, nil
	}
	for _, pr := range provs {
		name := "etw:" + pr.Name
		if pr.Name == "" {
			continue
		}
		if ok, _ := path.Match(glob, name); !ok {
			continue
		}
		kind := "etw-provider"
		if pr.MOF {
			kind = "etw-provider (MOF)"
		}
		out = append(out, probeInfo{Name: name, Kind: kind, Help: "provider " + pr.GUID.String() + "; etw:" + pr.Name + ":EVENT for one event, :level=N:keywords=0xMASK to narrow"})
	}
	return out, nil
}
