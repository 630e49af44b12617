// The Thread view (fetch-messages).
bridge.start("thread", (data, args) => (Array.isArray(data.messages) ? threadPanel(data, args) : null));
