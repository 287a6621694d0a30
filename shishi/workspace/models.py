# The workspace shell keeps no data of its own: notifications live in shishi.notifications.
