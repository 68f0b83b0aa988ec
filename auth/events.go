package auth

// Event is an outcome the service reports through Service.OnEvent (for metrics). The set is
// closed: Events lists every value, and the metrics test checks that each one is counted.
type Event uint8

const (
	EventLoginOK Event = iota
	EventLoginFailed
	EventLoginThrottled
	EventRefreshOK
	EventRefreshGrace
	EventRefreshReused
	EventRefreshInvalid
	EventRecoveryRequested
	EventRecoveryThrottled
	EventRecoveryMailSent
	EventRecoveryMailFailed
	EventRecoveryOK
	EventRecoveryInvalid
	EventRegisterThrottled
	EventChangePasswordThrottled
	eventCount
)

var eventNames = [eventCount]string{
	EventLoginOK:                 "login_ok",
	EventLoginFailed:             "login_failed",
	EventLoginThrottled:          "login_throttled",
	EventRefreshOK:               "refresh_ok",
	EventRefreshGrace:            "refresh_grace",
	EventRefreshReused:           "refresh_reused",
	EventRefreshInvalid:          "refresh_invalid",
	EventRecoveryRequested:       "recovery_requested",
	EventRecoveryThrottled:       "recovery_throttled",
	EventRecoveryMailSent:        "recovery_mail_sent",
	EventRecoveryMailFailed:      "recovery_mail_failed",
	EventRecoveryOK:              "recovery_ok",
	EventRecoveryInvalid:         "recovery_invalid",
	EventRegisterThrottled:       "register_throttled",
	EventChangePasswordThrottled: "change_password_throttled",
}

func (e Event) String() string {
	if e < eventCount {
		return eventNames[e]
	}
	return "unknown"
}

// Events returns every event the service may report.
func Events() []Event {
	all := make([]Event, eventCount)
	for i := range all {
		all[i] = Event(i)
	}
	return all
}
