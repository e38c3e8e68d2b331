from tortoise import migrations
from tortoise.migrations import operations as ops
from server.contacts.models import ContactKind
from server.telephony.models import CallDirection, ForwardingCondition, RecordingFormat
from server.tickets.models import TicketKind, TicketPriority, TicketStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Contact',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(default=ContactKind.GENERAL, description='BILLING: BILLING\nTECHNICAL: TECHNICAL\nCONTRACTUAL: CONTRACTUAL\nGENERAL: GENERAL', enum_type=ContactKind, max_length=16)),
                ('first_name', fields.CharField(default='', max_length=100)),
                ('last_name', fields.CharField(default='', max_length=100)),
                ('title', fields.CharField(default='', max_length=100)),
                ('email', fields.CharField(default='', max_length=254)),
                ('office_phone', fields.CharField(default='', max_length=32)),
                ('mobile_phone', fields.CharField(default='', max_length=32)),
                ('notes', fields.TextField(default='', unique=False)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'contact', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'kind'])], 'pk_attr': 'id', 'table_description': 'A contact person of an organisation. Contacts never sign in: there is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Extension',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='extensions', on_delete=OnDelete.CASCADE)),
                ('number', fields.CharField(max_length=8)),
                ('label', fields.CharField(default='', max_length=100)),
                ('membership', fields.OneToOneField('models.Membership', source_field='membership_id', null=True, db_constraint=True, to_field='id', related_name='extension', on_delete=OnDelete.SET_NULL)),
                ('do_not_disturb', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'extension', 'app': 'models', 'unique_together': (('organisation', 'number'),), 'pk_attr': 'id', 'table_description': 'A phone extension of an organisation, assigned to at most one member'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CallRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='call_records', on_delete=OnDelete.CASCADE)),
                ('extension', fields.ForeignKeyField('models.Extension', source_field='extension_id', db_constraint=True, to_field='id', related_name='call_records', on_delete=OnDelete.CASCADE)),
                ('membership', fields.ForeignKeyField('models.Membership', source_field='membership_id', null=True, db_constraint=True, to_field='id', related_name='call_records', on_delete=OnDelete.SET_NULL)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('direction', fields.CharEnumField(description='INBOUND: INBOUND\nOUTBOUND: OUTBOUND', enum_type=CallDirection, max_length=16)),
                ('remote_number', fields.CharField(max_length=32)),
                ('duration_seconds', fields.IntField(default=0)),
                ('recording_format', fields.CharEnumField(null=True, description='WAV: WAV\nMP3: MP3', enum_type=RecordingFormat, max_length=8)),
                ('recording_seconds', fields.IntField(null=True)),
                ('recording_bytes', fields.BigIntField(null=True)),
                ('recording_deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'call_record', 'app': 'models', 'indexes': [Index(fields=['organisation_id', 'started_at']), Index(fields=['extension_id', 'id']), Index(fields=['membership_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One call of an extension, with optional recording metadata. The member'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ForwardingRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='forwarding_rules', on_delete=OnDelete.CASCADE)),
                ('extension', fields.ForeignKeyField('models.Extension', source_field='extension_id', db_constraint=True, to_field='id', related_name='forwarding_rules', on_delete=OnDelete.CASCADE)),
                ('condition', fields.CharEnumField(description='ALWAYS: ALWAYS\nBUSY: BUSY\nNO_ANSWER: NO_ANSWER\nUNAVAILABLE: UNAVAILABLE', enum_type=ForwardingCondition, max_length=16)),
                ('destination', fields.CharField(max_length=32)),
                ('ring_seconds', fields.IntField(default=20)),
            ],
            options={'table': 'forwarding_rule', 'app': 'models', 'unique_together': (('extension', 'condition'),), 'indexes': [Index(fields=['organisation_id', 'destination'])], 'pk_attr': 'id', 'table_description': 'Where calls to an extension go under one condition (one rule per condition).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ticket',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='tickets', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('kind', fields.CharEnumField(description='INCIDENT: INCIDENT\nREQUEST: REQUEST', enum_type=TicketKind, max_length=16)),
                ('priority', fields.CharEnumField(default=TicketPriority.NORMAL, description='LOW: LOW\nNORMAL: NORMAL\nHIGH: HIGH\nURGENT: URGENT', enum_type=TicketPriority, max_length=16)),
                ('subject', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=TicketStatus.NEW, description='NEW: NEW\nIN_PROGRESS: IN_PROGRESS\nWAITING_ON_CUSTOMER: WAITING_ON_CUSTOMER\nRESOLVED: RESOLVED\nCLOSED: CLOSED', enum_type=TicketStatus, max_length=24)),
                ('reporter', fields.ForeignKeyField('models.User', source_field='reporter_id', null=True, db_constraint=True, to_field='id', related_name='reported_tickets', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket', 'app': 'models', 'unique_together': (('organisation', 'number'),), 'indexes': [Index(fields=['organisation_id', 'status']), Index(fields=['organisation_id', 'reporter_id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketComment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='ticket_comments', on_delete=OnDelete.CASCADE)),
                ('ticket', fields.ForeignKeyField('models.Ticket', source_field='ticket_id', db_constraint=True, to_field='id', related_name='comments', on_delete=OnDelete.CASCADE)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='ticket_comments', on_delete=OnDelete.SET_NULL)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ticket_comment', 'app': 'models', 'indexes': [Index(fields=['ticket_id', 'id'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TicketCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.OneToOneField('models.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='ticket_counter', on_delete=OnDelete.CASCADE)),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'ticket_counter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The last ticket number of an organisation. Raising a ticket increments'},
            bases=['Model'],
        ),
    ]
