package mqttlink

// Connected reports whether the link has a broker session now. It is safe
// from any goroutine; pintud's metrics and /readyz report it.
func (l *Link) Connected() bool {
	c, _ := l.current()
	return c != nil
}
