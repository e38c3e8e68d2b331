from server.invitations.service import use_extension_giver
from server.telephony.service import give_extension_to_new_member

# createUser and inviteUser may give the new person an extension (invitations/ stands below).
use_extension_giver(give_extension_to_new_member)
