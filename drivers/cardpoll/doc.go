// Package cardpoll holds what the polled card-UID readers (rc522, pn532)
// share above their chip protocol: the UID type and Loop, which turns single
// polls of a reader into card reads.
//
// Loop owns the polling schedule (one poll every Interval, start to start),
// the hold-off that turns a card resting on the reader into one read, the
// retry schedule after reader errors (a backoff from 100 ms doubling to 5 s)
// with its OnError reports (the error once per outage, nil on recovery),
// the OnCardError report of each card error,
// re-initialising the reader in the poll that follows a reader error, the
// serialisation of polls, and the final Halt. The chip protocol (one read,
// the initialisation, the power-down) and the decision of which errors are
// about a card stay in the driver.
//
// Loop waits with the time package only, so its schedule runs on the fake
// clock of a testing/synctest bubble.
package cardpoll
