//go:build !windows || !(amd64 || arm64)

package etw

// NewLive returns ErrNeedsWindows: live ETW sessions exist only on 64-bit
// Windows. Captures (NewCapture) decode anywhere.
func NewLive(opts LiveOptions) (*Source, error) { return nil, ErrNeedsWindows }

// Providers returns ErrNeedsWindows: only Windows registers providers.
func Providers() ([]ProviderInfo, error) { return nil, ErrNeedsWindows }
